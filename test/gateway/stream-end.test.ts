import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startHarness, type Harness } from '../support/gateway-harness.js';

const AUTH = {
  authorization: 'Bearer sk-test-0123456789abcdefghijklmnop',
  'content-type': 'application/json',
};
const chunk = (content: string): string =>
  `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[{"index":0,"delta":{"content":"${content}"},"finish_reason":null}]}\n\n`;
const STREAM =
  chunk('Hello') +
  chunk(' there') +
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\n' +
  'data: [DONE]\n\n';

/** An upstream that sends a whole stream, `[DONE]` included, then keeps the response open for `holdMs`. */
async function holdingUpstream(holdMs: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(STREAM);
      setTimeout(() => res.end(), holdMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}

describe('gateway: the end of a stream', () => {
  let h: Harness | undefined;
  let upstream: Server | undefined;
  afterEach(async () => {
    await h?.close();
    upstream?.close();
  });

  it('passes [DONE] on at once when the upstream holds the response open after it', async () => {
    const u = await holdingUpstream(800);
    upstream = u.server;
    h = await startHarness({ upstreamUrl: u.url });
    const t0 = performance.now();
    const res = await request(`${h.baseURL}/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({
        model: 'gpt-4.1-mini',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }),
    });
    let text = '';
    let doneAt = 0;
    for await (const c of res.body) {
      text += (c as Buffer).toString('utf8');
      if (!doneAt && text.includes('data: [DONE]')) doneAt = performance.now() - t0;
    }
    const endAt = performance.now() - t0;
    // The last write waits for the upstream's end at most one event-loop turn, not until the end.
    expect(doneAt).toBeGreaterThan(0);
    expect(doneAt).toBeLessThan(500);
    expect(endAt).toBeGreaterThanOrEqual(750);
    // The usage chunk Tollgate asked for is hidden; everything else arrives as sent.
    expect(text).toBe(STREAM.replace(/data: \{[^\n]*"usage":\{[^\n]*\n\n/, ''));
    const [e] = await h.events();
    expect(e!.status).toBe('SUCCESS');
    expect(e!.response).toBe('Hello there');
    expect(e!.finish_reason).toBe('stop');
    expect(e!.total_tokens).toBe(5);
  });
});
