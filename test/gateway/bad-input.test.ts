import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startHarness, type Harness } from '../support/gateway-harness.js';
import { FlakyEventStore } from '../support/flaky-event-store.js';
import { until } from '../support/until.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';

const AUTH = {
  authorization: 'Bearer sk-test-0123456789abcdefghijklmnop',
  'content-type': 'application/json',
};

async function post(
  h: Harness,
  body: string | Buffer,
  headers: Record<string, string> = {},
  path = '/chat/completions',
) {
  const res = await request(`${h.baseURL}${path}`, {
    method: 'POST',
    headers: { ...AUTH, ...headers },
    body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: safeJson(text) };
}

interface ErrorJson {
  error: { code: string; message: string };
}

function safeJson(t: string): ErrorJson {
  try {
    return JSON.parse(t) as ErrorJson;
  } catch {
    return { error: { code: '', message: '' } };
  }
}

/** Sends raw bytes on a socket and returns what came back (for requests no HTTP client will send). */
function rawHttp(origin: string, payload: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname, () => sock.write(payload));
    let out = '';
    sock.on('data', (d) => (out += d.toString('latin1')));
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
    setTimeout(() => {
      sock.destroy();
      resolve(out);
    }, 1500);
  });
}

describe('gateway: bad input gets a clear error, a correct event, and no crash', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('malformed JSON → 400 TG_ERR_REQUEST_INVALID_JSON, event CLIENT_ERROR, no upstream call', async () => {
    h = await startHarness();
    const r = await post(h, '{"model": "gpt-4.1", "messages": [');
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('TG_ERR_REQUEST_INVALID_JSON');
    expect(r.json.error.message).not.toContain('messages'); // no payload echoed
    const [e] = await h.events();
    expect(e!.status).toBe('CLIENT_ERROR');
    expect(e!.http_status_code).toBe(400);
    expect(e!.error_code).toBe('TG_ERR_REQUEST_INVALID_JSON');
    expect(h.mock.requests).toHaveLength(0);
  });

  it('a body over the limit → 413, event recorded, no upstream call', async () => {
    h = await startHarness({ gateway: { bodyLimitBytes: 1024 } });
    const big = JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'x'.repeat(5000) }] });
    const r = await post(h, big);
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('TG_ERR_REQUEST_BODY_TOO_LARGE');
    const [e] = await h.events();
    expect(e!.status).toBe('CLIENT_ERROR');
    expect(e!.http_status_code).toBe(413);
    expect(h.mock.requests).toHaveLength(0);
  });

  it('a chunked body that grows past the limit → 413', async () => {
    h = await startHarness({ gateway: { bodyLimitBytes: 1024 } });
    async function* chunks() {
      for (let i = 0; i < 10; i++) yield Buffer.from('x'.repeat(500));
    }
    const res = await request(`${h.baseURL}/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: Readable.from(chunks()),
    }).catch(() => null);
    if (res) {
      expect(res.statusCode).toBe(413);
      await res.body.dump();
    }
    const [e] = await h.events();
    expect(e!.http_status_code).toBe(413);
  });

  it('invalid UTF-8 → 400 TG_ERR_REQUEST_INVALID_UTF8', async () => {
    h = await startHarness();
    const bytes = Buffer.concat([
      Buffer.from('{"model":"gpt-4.1","messages":[{"role":"user","content":"'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"}]}'),
    ]);
    const r = await post(h, bytes);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('TG_ERR_REQUEST_INVALID_UTF8');
    const [e] = await h.events();
    expect(e!.error_code).toBe('TG_ERR_REQUEST_INVALID_UTF8');
  });

  it('control characters in attribution headers cannot forge lines in the event', async () => {
    h = await startHarness();
    const origin = h.baseURL.replace(/\/v1$/, '');
    const body = JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] });
    // No HTTP client sends these, so write the request by hand (HTAB and obs-text are legal; ESC and DEL are not).
    const reply = await rawHttp(
      origin,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Tollgate-User: mallory\t[FAKE]\u00ff\r\nUser-Agent: agent\u001b[31mred\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const events = await h.events();
    if (reply.startsWith('HTTP/1.1 200')) {
      expect(events[0]!.user_id).not.toMatch(/[\u0000-\u001f\u007f]/);
      expect(events[0]!.user_agent ?? '').not.toMatch(/[\u0000-\u001f\u007f]/);
      expect(events[0]!.user_id).toBe('mallory [FAKE]\u00ff');
    } else {
      // The HTTP parser refused the ESC byte outright: no event, and the gateway is unharmed.
      expect(reply).toMatch(/^HTTP\/1.1 400/);
      expect(events).toHaveLength(0);
    }
  });

  it('header-derived values are cleaned of control characters before they reach the event', async () => {
    const { createFieldCleaner } = await import('../../src/redaction/field-cleaning.js');
    const cleaner = createFieldCleaner();
    expect(cleaner.cleanValue('user_agent', 'a\r\nFAKE: 1\u001b[2J\u0000\u2028z\u0085\u009b')).toBe(
      'a FAKE: 1 [2J z',
    );
    expect(cleaner.cleanValue('user_agent', 'x'.repeat(1000)).length).toBe(256);
    h = await startHarness();
  });

  it('CR/LF smuggled into a header is refused by the HTTP parser and the gateway keeps serving', async () => {
    h = await startHarness();
    const origin = h.baseURL.replace(/\/v1$/, '');
    const reply = await rawHttp(
      origin,
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Tollgate-User: a\rInjected: 1\r\nContent-Length: 2\r\n\r\n{}',
    );
    expect(reply.startsWith('HTTP/1.1 400')).toBe(true);
    const ok = await post(
      h,
      JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'still alive' }] }),
    );
    expect(ok.status).toBe(200);
  });

  it('absolute-form request targets are refused (not an open proxy)', async () => {
    h = await startHarness();
    const origin = h.baseURL.replace(/\/v1$/, '');
    const reply = await rawHttp(
      origin,
      'GET http://169.254.169.254/latest/meta-data HTTP/1.1\r\nHost: 169.254.169.254\r\nConnection: close\r\n\r\n',
    );
    expect(reply).toMatch(/^HTTP\/1.1 400/);
    expect(reply).toContain('TG_ERR_REQUEST_ABSOLUTE_URI');
    expect(h.mock.requests).toHaveLength(0);
  });

  it('dot segments and encoded separators are refused with 400 and an event, never forwarded', async () => {
    h = await startHarness();
    const origin = h.baseURL.replace(/\/v1$/, '');
    const paths = [
      '/v1/../../internal/billing',
      '/v1/%2e%2e/%2E%2e/internal/billing',
      '/v1/chat/..%2f..%2finternal',
      '/v1/.%2e/internal',
      '/v1/..\\internal',
    ];
    for (const p of paths) {
      const reply = await rawHttp(
        origin,
        `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      );
      expect(reply, p).toMatch(/^HTTP\/1.1 400/);
      expect(reply).toContain('TG_ERR_REQUEST_BAD_PATH');
    }
    expect(h.mock.requests).toHaveLength(0);
    const events = await h.events();
    expect(events).toHaveLength(paths.length);
    for (const e of events) {
      expect(e.error_code).toBe('TG_ERR_REQUEST_BAD_PATH');
      expect(e.status).toBe('CLIENT_ERROR');
    }
  });

  it('Host and X-Forwarded-Host headers cannot redirect the upstream', async () => {
    h = await startHarness();
    const r = await post(
      h,
      JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
      {
        'x-forwarded-host': 'evil.example',
        forwarded: 'host=evil.example',
      },
    );
    expect(r.status).toBe(200);
    expect(h.mock.requests).toHaveLength(1);
    expect(h.mock.requests[0]!.headers.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(h.mock.requests[0]!.headers['x-forwarded-host']).toBeUndefined();
  });

  it('a stream the upstream cuts off → the client is told in-stream, event SERVER_ERROR with partial output', async () => {
    h = await startHarness();
    h.mock.enqueue({ truncateAfterChunks: 2 });
    const r = await post(
      h,
      JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    );
    expect(r.status).toBe(200);
    expect(r.text).toContain('TG_ERR_UPSTREAM_STREAM_BROKEN');
    const [e] = await h.events();
    expect(e!.status).toBe('SERVER_ERROR');
    expect(e!.error_code).toBe('TG_ERR_UPSTREAM_STREAM_BROKEN');
    expect(e!.response).toBeTruthy();
    expect(e!.usage_source).toBe('estimated');
    expect(e!.output_tokens).toBeGreaterThan(0);
  });

  it('an upstream that goes silent mid-stream → idle timeout, event TIMEOUT', async () => {
    h = await startHarness({ upstream: { timeouts: { idleMs: 300 } } });
    h.mock.enqueue({ stallAfterChunks: 2 });
    const started = Date.now();
    const r = await post(
      h,
      JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    );
    expect(Date.now() - started).toBeLessThan(4000);
    expect(r.text).toContain('TG_ERR_UPSTREAM_IDLE_TIMEOUT');
    const [e] = await h.events();
    expect(e!.status).toBe('TIMEOUT');
    expect(e!.error_code).toBe('TG_ERR_UPSTREAM_IDLE_TIMEOUT');
  });

  it('an unreachable upstream → 502 TG_ERR_UPSTREAM_CONNECT after retries, event SERVER_ERROR', async () => {
    h = await startHarness({ upstream: { retry: { maxRetries: 1 } } });
    await h.mock.close();
    const r = await post(
      h,
      JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(r.status).toBe(502);
    expect(r.json.error.code).toBe('TG_ERR_UPSTREAM_CONNECT');
    const [e] = await h.events();
    expect(e!.status).toBe('SERVER_ERROR');
    expect(e!.retry_count).toBe(1);
    h.mock = new MockProvider(); // close() in afterEach needs a live mock
    await h.mock.listen();
  });

  it('fail-closed with the store down → 503 with Retry-After and no upstream call', async () => {
    let flaky!: FlakyEventStore;
    h = await startHarness({
      gateway: { policy: 'fail-closed' },
      wrapStore: (s) => (flaky = new FlakyEventStore(s)),
    });
    const body = JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] });
    expect((await post(h, body)).status).toBe(200); // committed before the response ended
    flaky.down = true;
    // The first request after the outage finds out at commit time: the response is cut, not completed.
    await post(h, body).catch(() => null);
    const r = await post(h, body);
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(r.json.error.code).toBe('TG_ERR_AUDIT_UNAVAILABLE');
    expect(h.mock.requests).toHaveLength(2);
  });

  it('fail-open with the store down → keeps serving, spools, and replays in order when the store returns', async () => {
    let flaky!: FlakyEventStore;
    h = await startHarness({ spool: true, wrapStore: (s) => (flaky = new FlakyEventStore(s)) });
    const body = JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] });
    flaky.down = true;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await post(h, body);
      expect(r.status).toBe(200);
      ids.push(String(r.headers['x-tollgate-event-id']));
    }
    // The writer spools off the request path: wait for it rather than for a fixed time.
    await until('5 events spooled', () => h.tg.writer.stats().spooled >= 5, 5_000, 10);
    expect(h.tg.writer.stats().spooled).toBe(5);
    flaky.down = false;
    await h.tg.writer.replaySpool();
    const events = await h.events();
    expect(events.map((e) => e.id).sort()).toEqual([...ids].sort());
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(h.tg.writer.stats().dropped).toBe(0);
  });
});
