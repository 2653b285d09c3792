import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { GENESIS_PREV_HASH, hasValidHash } from '../../src/integrity/hash-chain.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { createIngestRoute, HttpEventSink, MemoryEventStore } from '../../src/sdk/index.js';
import { harnessLikeAuditor, KEY, sdkClient } from './sdk-support.js';

const TOKEN = 'tga-test-ingest-token-0123456789';
const toClose: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of toClose.splice(0).reverse()) await c();
});

/** A server with only the ingest route mounted, as the gateway mounts it. */
async function ingestServer(store: MemoryEventStore): Promise<string> {
  const route = createIngestRoute({ store, token: TOKEN });
  const server: Server = createServer((req, res) => void route.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  toClose.push(() => new Promise((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
}

async function post(
  url: string,
  body: unknown,
  token = TOKEN,
): Promise<{ status: number; json: { error?: Record<string, unknown>; accepted?: number } }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { error?: Record<string, unknown> } };
}

async function sdkEventsViaSink(
  n: number,
): Promise<{ central: MemoryEventStore; url: string; events: AuditEvent[] }> {
  const central = new MemoryEventStore();
  const url = await ingestServer(central);
  const mock = new MockProvider({ validKeys: [KEY] });
  const base = await mock.listen();
  toClose.push(() => mock.close());
  const auditor = await harnessLikeAuditor({
    store: new HttpEventSink({ url, token: TOKEN }),
    writer: { flushDelayMs: 20 },
  });
  const client = sdkClient(auditor, base);
  for (let i = 0; i < n; i++)
    await client.chat.completions.create({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: `hi ${i}` }],
    });
  await auditor.close();
  return { central, url, events: await central.query({ order: 'asc' }) };
}

describe('HTTP sink → ingest route', () => {
  it('ships SDK events to the central store, where their chain verifies', async () => {
    const { central, events } = await sdkEventsViaSink(3);
    expect(events).toHaveLength(3);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    const chainId = events[0]!.chain_id!;
    expect(chainId).toMatch(/^sdk-/);
    // Every hash recomputes and each event links to the one before (the checks `tollgate verify` runs).
    expect(events.every((e) => hasValidHash(e) && e.chain_id === chainId)).toBe(true);
    expect(events.map((e) => e.prev_hash)).toEqual([GENESIS_PREV_HASH, events[0]!.hash, events[1]!.hash]);
    expect(await central.chains()).toEqual([{ chain_id: chainId, seq: 3, hash: events[2]!.hash, count: 3 }]);
  });

  it('refuses a wrong token, a tampered event, a gateway chain id, a broken link, and non-arrays; stores nothing then', async () => {
    const { url, events } = await sdkEventsViaSink(2);
    const fresh = new MemoryEventStore();
    const url2 = await ingestServer(fresh);
    expect((await post(url2, events, 'tga-wrong')).status).toBe(401);
    const tampered = events.map((e) => ({ ...e }));
    tampered[1]!.cost_micro_usd = 0;
    const r1 = await post(url2, tampered);
    expect(r1.status).toBe(400);
    expect(r1.json.error).toMatchObject({ code: 'TG_ERR_INGEST_INVALID_EVENT', index: 1, field: 'hash' });
    const r2 = await post(url2, [{ ...events[0]!, chain_id: 'test-instance' }]);
    expect(r2.json.error).toMatchObject({ index: 0, field: 'chain_id' });
    const r3 = await post(url2, [events[1]!, events[0]!]);
    expect(r3.json.error).toMatchObject({ index: 1, field: 'prev_hash' });
    const { prompt: _p, ...missing } = events[0]!;
    expect((await post(url2, [missing])).json.error).toMatchObject({ field: 'prompt' });
    expect((await post(url2, { events })).json.error).toMatchObject({ code: 'TG_ERR_REQUEST_INVALID_JSON' });
    expect((await post(url2, '[{')).json.error).toMatchObject({ code: 'TG_ERR_REQUEST_INVALID_JSON' });
    expect(await fresh.count()).toBe(0);
    // The good batch, twice (a sender's retry): stored once.
    expect((await post(url2, events)).json.accepted).toBe(2);
    expect((await post(url2, events)).status).toBe(200);
    expect(await fresh.count()).toBe(2);
    expect(url).not.toBe(url2);
  });

  it('counts events as spooled or dropped when the ingest endpoint is down, never silently', async () => {
    const mock = new MockProvider({ validKeys: [KEY] });
    const base = await mock.listen();
    toClose.push(() => mock.close());
    const auditor = await harnessLikeAuditor({
      store: { kind: 'http', url: 'http://127.0.0.1:9/ingest', token: TOKEN },
      writer: { flushDelayMs: 0, retryIntervalMs: 60_000 },
    });
    toClose.push(() => auditor.close());
    await sdkClient(auditor, base).chat.completions.create({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: 'hi' }],
    });
    await auditor.flush();
    expect(auditor.stats()).toMatchObject({ written: 0, dropped: 1, storeErrors: 1 });
    await expect(auditor.store.query({})).rejects.toMatchObject({ code: 'TG_ERR_STORE_WRITE_ONLY' });
  });
});
