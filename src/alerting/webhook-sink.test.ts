import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { createAlertDispatcher } from './alert-dispatcher.js';
import { sampleAlert } from './alert-store.contract.js';
import { MemoryAlertStore } from './memory-alert-store.js';
import { createWebhookSink } from './webhook-sink.js';
import { verifyWebhookSignature } from './webhook-signature.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local receiver answering the given statuses in turn (the last one repeats). */
async function receiver(statuses: number[]) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = statuses[Math.min(received.length - 1, statuses.length - 1)]!;
      res.end('{"detail":"not recorded"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const SECRET = 'whsec_test_only';

describe('webhook sink', () => {
  it('signs t.body with HMAC-SHA256 in x-tollgate-signature (checked with an independent computation)', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 12));
    const { url, received } = await receiver([200]);
    const sink = createWebhookSink({ url, secret: SECRET, clock });
    expect(await sink.send(sampleAlert(), 'new')).toEqual({ ok: true });
    const { headers, body } = received[0]!;
    expect(headers['content-type']).toBe('application/json');
    const header = String(headers['x-tollgate-signature']);
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(clock.now() / 1000);
    const independent = createHmac('sha256', SECRET).update(`${m![1]}.${body}`).digest('hex');
    expect(m![2]).toBe(independent);
    expect(JSON.parse(body)).toMatchObject({
      type: 'tollgate.alert',
      change: 'new',
      alert: { id: sampleAlert().id },
    });
    expect(verifyWebhookSignature(SECRET, header, body, clock.now())).toBe(true);
    expect(verifyWebhookSignature(SECRET, header, body + ' ', clock.now())).toBe(false);
    expect(verifyWebhookSignature('other', header, body, clock.now())).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, body, clock.now() + 10 * 60_000)).toBe(false);
  });

  it('is retried with backoff by the dispatcher: fails twice, then delivered; status recorded', async () => {
    const clock = new ManualClock();
    const { url, received } = await receiver([503, 500, 204]);
    const store = new MemoryAlertStore();
    const alert = sampleAlert();
    await store.upsert(alert);
    const delays: number[] = [];
    const dispatcher = createAlertDispatcher({
      sinks: [createWebhookSink({ url, secret: SECRET, clock })],
      clock,
      store,
      baseDelayMs: 100,
      random: () => 0.5,
      sleep: async (ms) => void delays.push(ms),
    });
    dispatcher.dispatch(alert, 'new');
    await dispatcher.drain();
    expect(received).toHaveLength(3);
    expect(delays).toEqual([50, 100]); // full jitter of 100 ms, then of 200 ms
    expect(dispatcher.stats()['webhook']).toMatchObject({ delivered: 1, failed: 0, retries: 2 });
    await new Promise((r) => setImmediate(r));
    expect((await store.get(alert.id))?.deliveries).toEqual([
      expect.objectContaining({ sink: 'webhook', status: 'delivered', attempts: 3, last_error: null }),
    ]);
    // Every attempt was signed over its own body.
    for (const r of received) {
      expect(
        verifyWebhookSignature(SECRET, String(r.headers['x-tollgate-signature']), r.body, clock.now()),
      ).toBe(true);
    }
  });

  it('records a final failure after the last attempt, and does not retry a 400', async () => {
    const clock = new ManualClock();
    const down = await receiver([500]);
    const refusing = await receiver([400]);
    const store = new MemoryAlertStore();
    const alert = sampleAlert();
    await store.upsert(alert);
    const dispatcher = createAlertDispatcher({
      sinks: [
        createWebhookSink({ url: down.url, secret: SECRET, clock, name: 'down' }),
        createWebhookSink({ url: refusing.url, secret: SECRET, clock, name: 'refusing' }),
      ],
      clock,
      store,
      maxAttempts: 3,
      sleep: async () => undefined,
    });
    dispatcher.dispatch(alert, 'new');
    await dispatcher.drain();
    await new Promise((r) => setImmediate(r));
    expect(down.received).toHaveLength(3);
    expect(refusing.received).toHaveLength(1);
    const bySink = Object.fromEntries((await store.get(alert.id))!.deliveries.map((d) => [d.sink, d]));
    expect(bySink['down']).toMatchObject({ status: 'failed', attempts: 3, last_error: 'http_500' });
    expect(bySink['refusing']).toMatchObject({ status: 'failed', attempts: 1, last_error: 'http_400' });
  });

  it('reports a network error as retryable without throwing', async () => {
    const clock = new ManualClock();
    const sink = createWebhookSink({
      url: 'http://127.0.0.1:1/none',
      secret: SECRET,
      clock,
      timeoutMs: 2000,
    });
    expect(await sink.send(sampleAlert(), 'new')).toEqual({ ok: false, reason: 'network', retryable: true });
  });
});
