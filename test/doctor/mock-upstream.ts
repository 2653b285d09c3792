/** Loopback servers that fail in the ways the doctor must recognise. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface Running {
  url: string;
  port: number;
  close(): Promise<void>;
}

async function listen(server: Server, scheme: 'http' | 'https'): Promise<Running> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function startHttp(handler: Handler): Promise<Running> {
  return listen(createHttpServer(handler), 'http');
}

export function startHttps(cert: TestCert, handler: Handler): Promise<Running> {
  return listen(createHttpsServer({ key: cert.key, cert: cert.cert }, handler), 'https');
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface TestCert {
  key: string;
  cert: string;
}

/**
 * A self-signed certificate made at test time with the openssl CLI. `days: -1` produces one
 * whose notAfter lies before notBefore, i.e. already expired.
 */
export function makeCert(options: { commonName: string; altNames: string; days: number }): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'tg-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const csr = join(dir, 'csr.pem');
    const cert = join(dir, 'cert.pem');
    const ext = join(dir, 'ext.cnf');
    execFileSync('sh', ['-c', `printf 'subjectAltName=%s\\n' "$1" > "$2"`, 'sh', options.altNames, ext]);
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        csr,
        '-subj',
        `/CN=${options.commonName}`,
      ],
      { stdio: 'ignore' },
    );
    execFileSync(
      'openssl',
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-signkey',
        key,
        '-days',
        String(options.days),
        '-extfile',
        ext,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
