import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { systemClock } from '../../src/core/clock.js';
import { MemoryEventStore } from '../../src/store/memory/memory-event-store.js';
import { DiskSpool } from '../../src/writer/disk-spool.js';
import { EventWriter } from '../../src/writer/event-writer.js';
import { FlakyEventStore } from '../support/flaky-event-store.js';
import { sampleEvent } from '../integrity/sample-events.js';
import { until } from '../support/until.js';

/** A store that answers after a network round trip, like PostgreSQL (SQLite answers synchronously). */
class SlowStore extends FlakyEventStore {
  override async append(events: readonly AuditEvent[]): Promise<void> {
    await sleep(15);
    return super.append(events);
  }
}

describe('spool replay against an asynchronous store', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps events spooled while a replay is in flight (none lost, none twice)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-replay-'));
    dirs.push(dir);
    const inner = new MemoryEventStore();
    const store = new SlowStore(inner);
    const writer = new EventWriter({
      store,
      clock: systemClock,
      policy: 'fail-open',
      maxQueue: 10_000,
      batchSize: 7,
      spool: new DiskSpool(join(dir, 'spool.jsonl'), 10_000_000),
      retryIntervalMs: 5,
    });
    store.down = true;
    let i = 0;
    for (; i < 40; i++) writer.enqueue(sampleEvent(i));
    await sleep(50);
    store.down = false;
    // Keep writing while the writer replays in small, slow batches.
    for (let round = 0; round < 30; round++) {
      for (let k = 0; k < 3; k++) writer.enqueue(sampleEvent(i++));
      await sleep(4);
    }
    await until('every event stored', async () => (await inner.count()) >= i, 2_000, 10);
    await writer.close();
    const ids = inner.unsafeRows().map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(i);
    expect(writer.stats().dropped).toBe(0);
  });
});
