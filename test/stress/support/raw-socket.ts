import { connect, type Socket } from 'node:net';

/** What came back on a raw connection. */
export interface RawReply {
  /** Everything received (latin1, so every byte survives). */
  text: string;
  /** The server closed the connection (rather than the timeout ending the wait). */
  closedByServer: boolean;
  ms: number;
}

/** Sends raw bytes (requests no HTTP client will send) and collects the reply until close or `timeoutMs`. */
export function rawExchange(origin: string, payload: Buffer | string, timeoutMs = 5_000): Promise<RawReply> {
  const { hostname, port } = new URL(origin);
  const t0 = Date.now();
  return new Promise((resolve) => {
    let text = '';
    let settled = false;
    const sock = connect(Number(port), hostname, () => sock.write(payload));
    const done = (closedByServer: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ text, closedByServer, ms: Date.now() - t0 });
    };
    sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
    sock.on('end', () => done(true));
    sock.on('close', () => done(true));
    sock.on('error', () => done(true));
    const timer = setTimeout(() => done(false), timeoutMs);
  });
}

/** Opens a connection and hands it over (slowloris, aborts at a byte offset). */
export function rawConnect(origin: string): Promise<Socket> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname, () => resolve(sock));
    sock.once('error', reject);
  });
}
