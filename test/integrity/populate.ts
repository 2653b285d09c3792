import { ManualClock } from '../../src/core/clock.js';
import type { AuditEvent } from '../../src/core/audit-event.js';
import type { EventStore } from '../../src/store/event-store.js';
import { CheckpointWriter } from '../../src/integrity/checkpoint-writer.js';
import type { CheckpointStore, StoredCheckpoint } from '../../src/store/checkpoint-store.js';
import { createChainer } from '../../src/integrity/hash-chain.js';
import type { SigningKey } from '../../src/integrity/signing-key.js';
import type { Witness } from '../../src/integrity/witness.js';
import { sampleEvent } from './sample-events.js';

/** Records what a witness was sent, in memory. */
export class RecordingWitness implements Witness {
  readonly name = 'recording';
  readonly received: StoredCheckpoint[] = [];
  async submit(cp: StoredCheckpoint): Promise<void> {
    this.received.push({ ...cp });
  }
}

/**
 * Writes `n` chained events in batches through the real chainer and checkpoint writer, as the
 * pipeline does: link → store → recordWritten; checkpoints every `everyEvents` and a final one.
 */
export async function populate(options: {
  store: EventStore;
  checkpoints: CheckpointStore;
  key: SigningKey;
  chainId: string;
  n: number;
  everyEvents: number;
  batch?: number;
  witness?: Witness;
  clock?: ManualClock;
  startIndex?: number;
}): Promise<AuditEvent[]> {
  const clock = options.clock ?? new ManualClock();
  const chainer = createChainer({ chainId: options.chainId });
  const writer = CheckpointWriter.forNewChain({
    chainId: options.chainId,
    key: options.key,
    store: options.checkpoints,
    clock,
    everyEvents: options.everyEvents,
    everyMs: 3_600_000,
    witnesses: options.witness ? [options.witness] : [],
  });
  const all: AuditEvent[] = [];
  const batch = options.batch ?? 50;
  for (let i = 0; i < options.n; i += batch) {
    const events: AuditEvent[] = [];
    for (let j = i; j < Math.min(options.n, i + batch); j++) {
      const e = sampleEvent((options.startIndex ?? 0) + j);
      chainer.link(e);
      events.push(e);
    }
    await options.store.append(events);
    writer.recordWritten(events);
    clock.advance(1000);
    all.push(...events);
  }
  await writer.close();
  return all;
}
