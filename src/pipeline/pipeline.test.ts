import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../core/audit-event.js';
import { ManualClock } from '../core/clock.js';
import { blankEvent } from '../core/audit-event.js';
import { newExchange, type Exchange } from '../capture/exchange.js';
import { createChainer } from '../integrity/hash-chain.js';
import { EventWriter, type WriterStore } from '../writer/event-writer.js';
import { AuditPipeline } from './pipeline.js';

/** A store that records each append's event ids, and can be switched off. */
class RecordingStore implements WriterStore {
  readonly batches: string[][] = [];
  down = false;
  append(events: readonly AuditEvent[]): Promise<void> {
    if (this.down) return Promise.reject(new Error('store down'));
    this.batches.push(events.map((e) => e.id));
    return Promise.resolve();
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let n = 0;
function exchange(): Exchange {
  const x = newExchange({
    source: 'gateway',
    instanceId: 'test',
    eventId: `0190b6f0-0000-7000-8000-${(n++).toString(16).padStart(12, '0')}`,
    startedAt: Date.UTC(2026, 11, 7),
    endpoint: '/chat/completions',
    method: 'POST',
  });
  x.httpStatus = 200;
  return x;
}

function setup(writer: { flushDelayMs: number; flushEvents?: number }, onBuilt?: (ms: number) => void) {
  const store = new RecordingStore();
  const w = new EventWriter({
    store,
    clock: new ManualClock(),
    policy: 'fail-open',
    maxQueue: 1000,
    batchSize: 512,
    ...writer,
  });
  const built: AuditEvent[] = [];
  const pipeline = new AuditPipeline({
    redactor: { apply: () => undefined },
    chainer: createChainer({ chainId: 'test' }),
    writer: w,
    listeners: [(e) => built.push(e)],
    ...(onBuilt ? { onBuilt } : {}),
  });
  return { store, writer: w, pipeline, built };
}

describe('AuditPipeline.recordSoon', () => {
  it('builds the exchanges answered since the last flush when the writer flushes, in order, in one transaction', async () => {
    // A long delay: only the size trigger (3 events) or a drain flushes.
    const { store, pipeline, built } = setup({ flushDelayMs: 60_000, flushEvents: 3 });
    const xs = [exchange(), exchange()];
    for (const x of xs) pipeline.recordSoon(x);
    await nextTurn();
    await nextTurn();
    expect(built).toHaveLength(0); // waiting for the flush, not one build per turn
    const third = exchange();
    pipeline.recordSoon(third);
    await nextTurn();
    await nextTurn();
    expect(store.batches).toEqual([[...xs, third].map((x) => x.eventId)]);
    expect(built.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('builds an exchange with reservations to settle on the next turn, with those waiting ahead of it', async () => {
    const { store, pipeline, built } = setup({ flushDelayMs: 60_000 });
    const first = exchange();
    pipeline.recordSoon(first);
    const settled: Array<number | null> = [];
    pipeline.recordSoon(exchange(), (e) => settled.push(e.seq));
    await nextTurn();
    expect(built.map((e) => e.id)).toEqual([first.eventId, expect.any(String)]);
    expect(settled).toEqual([2]);
    expect(store.batches).toEqual([]); // built and queued; the flush still waits for its delay
  });

  it('chains the exchanges answered earlier before an event recorded directly', async () => {
    const { store, writer, pipeline } = setup({ flushDelayMs: 60_000 });
    const answered = exchange();
    pipeline.recordSoon(answered);
    const admin = pipeline.recordEvent(
      blankEvent({
        id: 'admin-1',
        timestamp: new Date(Date.UTC(2026, 11, 7)).toISOString(),
        source: 'gateway',
      }),
    );
    expect(admin.seq).toBe(2);
    await writer.drain();
    expect(store.batches.flat()).toEqual([answered.eventId, 'admin-1']);
  });

  it('builds past 32 waiting exchanges on the next turn instead of holding them for the flush', async () => {
    const { store, pipeline, built } = setup({ flushDelayMs: 60_000 });
    for (let i = 0; i < 32; i++) pipeline.recordSoon(exchange());
    await nextTurn();
    expect(built).toHaveLength(32);
    expect(store.batches).toEqual([]);
  });

  it('builds on the next turn while the store is down, and the writer accounts the events', async () => {
    const { store, writer, pipeline, built } = setup({ flushDelayMs: 0 });
    store.down = true;
    pipeline.recordSoon(exchange());
    await nextTurn();
    await nextTurn();
    expect(writer.stats()).toMatchObject({ storeAvailable: false, dropped: 1 });
    // No flush is coming now: the next exchange is built on the next turn and accounted at once.
    pipeline.recordSoon(exchange());
    await nextTurn();
    expect(built).toHaveLength(2);
    expect(writer.stats().dropped).toBe(2);
    await writer.close();
  });

  it('a drain builds and writes what waits', async () => {
    const { store, writer, pipeline } = setup({ flushDelayMs: 60_000 });
    const x = exchange();
    pipeline.recordSoon(x);
    await writer.drain();
    expect(store.batches).toEqual([[x.eventId]]);
  });

  it('buildPending builds what waits without writing it', () => {
    const { store, pipeline, built } = setup({ flushDelayMs: 60_000 });
    pipeline.recordSoon(exchange());
    pipeline.buildPending();
    expect(built).toHaveLength(1);
    expect(store.batches).toEqual([]);
  });
});

describe('AuditPipeline build timings (onBuilt)', () => {
  it('tells each build that made events, at the flush and on the next turn, and no empty one', async () => {
    const told: number[] = [];
    const { store, writer, pipeline } = setup({ flushDelayMs: 60_000, flushEvents: 2 }, (ms) =>
      told.push(ms),
    );
    // Two waiting exchanges fill the flush threshold: built together when the writer flushes.
    pipeline.recordSoon(exchange());
    pipeline.recordSoon(exchange());
    while (store.batches.length === 0) await nextTurn();
    expect(told).toHaveLength(1);
    // An exchange holding reservations (`then`) is built on the next turn, not at a flush.
    let event: AuditEvent | null = null;
    pipeline.recordSoon(exchange(), (e) => (event = e));
    while (event === null) await nextTurn();
    expect(told).toHaveLength(2);
    // Entry points that build first with nothing waiting tell nothing.
    pipeline.buildPending();
    pipeline.record(exchange());
    expect(told).toHaveLength(2);
    for (const ms of told) expect(ms).toBeGreaterThanOrEqual(0);
    await writer.drain();
  });
});
