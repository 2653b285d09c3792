/**
 * The audit trail tells how long its steps held the event loop (`tollgate_writer_loop_held_seconds`):
 * the writer each store append up to its first wait, not the wait itself (a commit in a worker
 * thread or on a PostgreSQL server does not hold the loop); the pipeline each build of deferred
 * exchanges (src/pipeline/pipeline.test.ts); both reach /metrics of a started gateway.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { sendChat } from '../observability/send-chat.js';
import { ManualClock } from '../../src/core/clock.js';
import { EventWriter, type LoopPhase, type WriterStore } from '../../src/writer/event-writer.js';
import { sampleEvent } from '../integrity/sample-events.js';

/** Holds the thread for at least `ms` (what a synchronous build or transaction does). */
function hold(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

interface Told {
  phase: LoopPhase;
  ms: number;
  /** Whether the append's wait had ended when the step was told. */
  afterWait: boolean;
}

/** A store whose append holds the loop `syncMs`, then waits until `finish()` is called. */
function slowStore(syncMs: number): { store: WriterStore; finish: () => void; waitEnded: () => boolean } {
  let finish = (): void => undefined;
  let ended = false;
  const store: WriterStore = {
    append(_events: readonly AuditEvent[]) {
      hold(syncMs);
      return new Promise<void>((resolve) => {
        finish = () => {
          ended = true;
          resolve();
        };
      });
    },
  };
  return { store, finish: () => finish(), waitEnded: () => ended };
}

describe('writer loop-held timings', () => {
  it('tells the append up to its first wait, not the wait', async () => {
    const s = slowStore(3);
    const told: Told[] = [];
    const writer = new EventWriter({
      store: s.store,
      clock: new ManualClock(0),
      policy: 'fail-open',
      maxQueue: 100,
      batchSize: 10,
      onLoopHeld: (phase, ms) => told.push({ phase, ms, afterWait: s.waitEnded() }),
    });
    writer.enqueue(sampleEvent(1));
    writer.enqueue(sampleEvent(2));
    await vi.waitFor(() => expect(told.map((t) => t.phase)).toEqual(['write']));
    expect(told[0]!.ms).toBeGreaterThanOrEqual(3);
    // Told before the append's promise settled: the wait is not loop time.
    expect(told[0]!.afterWait).toBe(false);
    s.finish();
    await writer.close();
    expect(writer.stats().written).toBe(2);
    expect(told).toHaveLength(1);
  });

  it('tells one write per append, and a store that throws at once is a failed batch', async () => {
    const told: LoopPhase[] = [];
    const store: WriterStore = { append: () => Promise.resolve() };
    const writer = new EventWriter({
      store,
      clock: new ManualClock(0),
      policy: 'fail-open',
      maxQueue: 100,
      batchSize: 10,
      onLoopHeld: (phase) => told.push(phase),
    });
    writer.enqueue(sampleEvent(1));
    await writer.drain();
    expect(told).toEqual(['write']);

    // A store that throws synchronously is still a failed batch (spooled or counted), not a crash.
    const quiet = new EventWriter({
      store: {
        append: () => {
          throw new Error('disk I/O error');
        },
      },
      clock: new ManualClock(0),
      policy: 'fail-open',
      maxQueue: 100,
      batchSize: 10,
      retryIntervalMs: 60_000,
    });
    quiet.enqueue(sampleEvent(2));
    await quiet.drain();
    expect(quiet.stats()).toMatchObject({ storeErrors: 1, dropped: 1, storeAvailable: false });
    await quiet.close();
    await writer.close();
  });
});

describe('tollgate_writer_loop_held_seconds', () => {
  it('is served at /metrics by a started gateway: one observation per build and per write, by phase', async () => {
    const mock = new MockProvider();
    const upstream = await mock.listen();
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-loop-held-'));
    const config = loadConfig({
      file: null,
      overrides: { db: join(dir, 'tollgate.db'), port: 0, upstream_url: upstream, 'retry.max_retries': 0 },
    });
    const tg = await startTollgate({ config, log: createLogger('silent') });
    try {
      for (let i = 0; i < 3; i++)
        expect((await sendChat(`${tg.url}/v1`, { model: 'gpt-4o-mini', prompt: `hello ${i}` })).status).toBe(
          200,
        );
      await tg.writer.drain();
      const text = await (await fetch(`${tg.url}/metrics`)).text();
      const sample = (series: string): number => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        if (line === undefined) throw new Error(`no ${series}`);
        return Number(line.split(' ')[1]);
      };
      for (const phase of ['build', 'write']) {
        const count = sample(`tollgate_writer_loop_held_seconds_count{phase="${phase}"}`);
        // At most one build and one append per request here (each may share them).
        expect(count, phase).toBeGreaterThanOrEqual(1);
        expect(count, phase).toBeLessThanOrEqual(3);
        expect(sample(`tollgate_writer_loop_held_seconds_sum{phase="${phase}"}`), phase).toBeGreaterThan(0);
        expect(sample(`tollgate_writer_loop_held_seconds_bucket{le="+Inf",phase="${phase}"}`), phase).toBe(
          count,
        );
      }
    } finally {
      await tg.close();
      await mock.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
