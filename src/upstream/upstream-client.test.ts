import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock.js';
import { UpstreamClient } from './upstream-client.js';
import { upstreamPolicy } from './upstream-policy.js';

/** A provider that answers the first `failures` requests with `status` and a large error body, then 200. */
async function flakyProvider(
  status: number,
  failures: number,
  errorBytes: number,
): Promise<{ server: Server; url: string }> {
  let seen = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (seen++ < failures) {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'x'.repeat(errorBytes), type: 'server_error' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}

describe('UpstreamClient retries', () => {
  let server: Server | undefined;
  let client: UpstreamClient | undefined;
  afterEach(async () => {
    await client?.close();
    server?.close();
  });

  // A retried answer's error body is read only up to the out-of-credit check's bound; a longer one
  // must be let go, not waited on (it stalled the exchange until the total timeout).
  for (const bytes of [100, 200_000, 2_000_000]) {
    it(`retries a 500 whose error body is ${bytes} bytes and returns the next answer`, async () => {
      const p = await flakyProvider(500, 1, bytes);
      server = p.server;
      client = new UpstreamClient(
        p.url,
        upstreamPolicy({
          timeouts: { connectMs: 1000, firstByteMs: 2000, idleMs: 2000, totalMs: 10_000 },
          retry: { baseDelayMs: 1, maxDelayMs: 5 },
        }),
        systemClock,
      );
      const res = await client.send({
        method: 'POST',
        path: '/chat/completions',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from('{}'),
        signal: new AbortController().signal,
      });
      expect(res.statusCode).toBe(200);
      expect(res.retryCount).toBe(1);
      let text = '';
      for await (const chunk of res.body as AsyncIterable<Buffer>) text += chunk.toString('utf8');
      expect(text).toBe('{"ok":true}');
    }, 15_000);
  }
});
