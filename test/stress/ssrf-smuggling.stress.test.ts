/**
 * SSRF and request smuggling (issue 12), against a whole Tollgate (`startTollgate`). A second
 * "evil" server listens on loopback: no request, however its target, headers, framing or body are
 * crafted, may make the gateway connect to it. Requests with conflicting framing
 * (Transfer-Encoding with Content-Length, duplicate Content-Length, a bogus chunk) are refused
 * by the HTTP parser with 400 and never reach the upstream.
 */
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { rawExchange } from './support/raw-socket.js';
import { startApp, type App } from './support/start-app.js';
import { stressProfile } from './support/stress-profile.js';

const profile = stressProfile();

describe('SSRF and header smuggling', () => {
  let mock: MockProvider;
  let app: App;
  let dir: string;
  let evil: Server;
  let evilConnections = 0;
  let evilHost: string;
  let mockHost: string;

  beforeAll(async () => {
    mock = new MockProvider();
    const upstream = await mock.listen();
    mockHost = new URL(upstream).host;
    evil = createServer((sock) => {
      evilConnections++;
      sock.destroy();
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    evilHost = `127.0.0.1:${(evil.address() as { port: number }).port}`;
    dir = mkdtempSync(join(tmpdir(), 'tollgate-ssrf-'));
    app = await startApp({
      db: join(dir, 'tollgate.db'),
      upstream,
      policy: 'fail-open',
      tune: (c) => (c.retry.max_retries = 0),
    });
  });

  afterAll(async () => {
    await app?.tg.close();
    await mock?.close();
    await new Promise((r) => evil?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const body = JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] });
  const req = (target: string, headers: string[] = [], method = 'POST', payload = body): string =>
    `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${headers.map((h) => `${h}\r\n`).join('')}Connection: close\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`;

  /** Every request the upstream saw went to the configured origin, under /v1. */
  function upstreamSawOnlyItself(): void {
    for (const r of mock.requests) {
      expect(r.headers.host).toBe(mockHost);
      expect(r.url.startsWith('/v1/')).toBe(true);
    }
  }

  it('request targets, Host and X-Forwarded-* cannot point the gateway anywhere else', async () => {
    const targets = [
      `http://${evilHost}/v1/chat/completions`,
      `https://${evilHost}/v1/chat/completions`,
      `//${evilHost}/v1/chat/completions`,
      `/v1//${evilHost}/chat/completions`,
      `/v1/@${evilHost}/chat/completions`,
      `/v1/..%2f..%2f${evilHost}/chat/completions`,
      `/v1/%2F%2F${evilHost}/chat/completions`,
      `/v1/../../${evilHost}`,
      `/v1http://${evilHost}/`,
      `/v1/chat/completions?url=http://${evilHost}/&base_url=http://${evilHost}`,
      `/v1/chat/completions#http://${evilHost}`,
      `*`,
      `${evilHost}`,
    ];
    const headerSets = [
      [
        `X-Forwarded-Host: ${evilHost}`,
        'X-Forwarded-Proto: http',
        `X-Forwarded-For: ${evilHost.split(':')[0]}`,
      ],
      [`Forwarded: host=${evilHost};proto=http`],
      [`X-Original-URL: http://${evilHost}/v1/chat/completions`, `X-Rewrite-URL: http://${evilHost}/`],
      [`X-Forwarded-Prefix: http://${evilHost}`, `X-Forwarded-Server: ${evilHost}`],
      [`Referer: http://${evilHost}/`, `Origin: http://${evilHost}`],
    ];
    const statuses: string[] = [];
    for (const t of targets) {
      const reply = await rawExchange(app.tg.url, req(t), 10_000);
      statuses.push(`${t.slice(0, 30)} → ${reply.text.slice(9, 12) || 'closed'}`);
    }
    // Host itself, set to the evil server (replaces the default Host line).
    for (const extra of headerSets) {
      const reply = await rawExchange(
        app.tg.url,
        req('/v1/chat/completions', extra).replace('Host: 127.0.0.1', `Host: ${evilHost}`),
        10_000,
      );
      expect(reply.text.slice(9, 12)).toBe('200');
    }
    // CONNECT: a tunnel is no business of this gateway.
    const connect = await rawExchange(
      app.tg.url,
      `CONNECT ${evilHost} HTTP/1.1\r\nHost: ${evilHost}\r\n\r\n`,
      5_000,
    );
    statuses.push(`CONNECT → ${connect.text.slice(9, 12) || 'closed'}`);
    // Absolute-form is refused outright.
    expect(statuses[0]).toMatch(/→ 400$/);
    expect(statuses[1]).toMatch(/→ 400$/);
    // Bodies naming other hosts are forwarded to the configured upstream, as data.
    const fields = await rawExchange(
      app.tg.url,
      req(
        '/v1/chat/completions',
        [],
        'POST',
        JSON.stringify({
          model: 'gpt-4.1',
          base_url: `http://${evilHost}`,
          messages: [
            {
              role: 'user',
              content: [{ type: 'image_url', image_url: { url: `http://${evilHost}/x.png` } }],
            },
          ],
        }),
      ),
      10_000,
    );
    expect(fields.text.slice(9, 12)).toBe('200');
    console.log(`[ssrf] ${statuses.join(' | ')}`);
    await new Promise((r) => setTimeout(r, 200));
    expect(evilConnections, 'the gateway connected to a host other than its upstream').toBe(0);
    upstreamSawOnlyItself();
    // Forwarding headers are stripped before the upstream.
    for (const r of mock.requests) {
      expect(r.headers['x-forwarded-host']).toBeUndefined();
      expect(r.headers.forwarded).toBeUndefined();
    }
  });

  it('Transfer-Encoding / Content-Length conflicts are refused with 400 and never reach the upstream', async () => {
    const before = mock.requests.length;
    const smuggled = `GET /v1/models HTTP/1.1\r\nHost: ${evilHost}\r\n\r\n`;
    const cases: Array<[string, string]> = [
      [
        'TE and CL',
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
      ],
      [
        'CL and TE',
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 60\r\n\r\n0\r\n\r\n${smuggled}`,
      ],
      [
        'two different CL',
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}${smuggled}`,
      ],
      [
        'CL list',
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 40\r\n\r\n{}${smuggled}`,
      ],
      [
        'bogus chunk size',
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      ],
      [
        'chunk size overflow',
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n{}\r\n0\r\n\r\n`,
      ],
      [
        'obfuscated TE',
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
      ],
      [
        'TE chunked, identity',
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
      ],
      [
        'space before colon',
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
      ],
      ['bare LF line ends', `POST /v1/chat/completions HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}`],
      [
        'header folding',
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n Transfer-Encoding: chunked\r\n\r\n{}`,
      ],
      ['NUL in target', `POST /v1/chat\u0000/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`],
    ];
    const out: string[] = [];
    for (const [name, payload] of cases) {
      const reply = await rawExchange(app.tg.url, payload, 10_000);
      const status = reply.text.slice(9, 12);
      out.push(`${name}: ${status || 'closed'}`);
      expect(['400', '501', ''], `${name}: ${reply.text.slice(0, 60)}`).toContain(status);
      // At most one response, and never a second one for the smuggled request.
      expect(reply.text.split('HTTP/1.1 ').length - 1, name).toBeLessThanOrEqual(1);
    }
    console.log(`[smuggling] ${out.join(' | ')}`);
    expect(mock.requests.length - before, 'a conflicting request reached the upstream').toBe(0);
    expect(evilConnections).toBe(0);
  });

  it('random request targets and header values never reach anything but the configured upstream', async () => {
    const target = fc.oneof(
      fc.webUrl().map((u) => u.replace(/^https?:\/\/[^/]+/, `http://${evilHost}`)),
      fc.webPath().map((p) => `/v1${p.startsWith('/') ? p : `/${p}`}`),
      fc
        .string({ unit: fc.constantFrom(...'/.:@%2fF\\?#v1evilhost0123456789'), maxLength: 40 })
        .map((s) => `/v1/${s}${evilHost}`),
    );
    await fc.assert(
      fc.asyncProperty(
        target,
        fc.constantFrom('Host', 'X-Forwarded-Host', 'Forwarded', 'X-Original-URL'),
        async (t, header) => {
          const value = header === 'Forwarded' ? `host=${evilHost}` : evilHost;
          const reply = await rawExchange(
            app.tg.url,
            req(t.replace(/[\s\u0000-\u001f\u007f]/g, ''), [`${header}: ${value}`]),
            10_000,
          );
          expect(reply.closedByServer).toBe(true);
        },
      ),
      { numRuns: profile.propertyRuns },
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(evilConnections).toBe(0);
    upstreamSawOnlyItself();
  });
});
