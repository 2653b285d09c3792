/**
 * Writes a signed checkpoint of one chain every N events or every T ms, whichever comes first,
 * and a heartbeat checkpoint every T ms when no event arrived, so that a verifier can tell "the
 * log stopped here" from "the tail was cut off" (a deleted tail is older than the newest
 * heartbeat). Each checkpoint goes to the CheckpointStore and to every witness.
 *
 * It must be fed events only after they are durably stored (the writer's "written" callback):
 * a checkpoint may never cover an event that a crash could still lose. Seqs the writer lost
 * (`recordLost`) keep their place in the tree as LOST_LEAF, so checkpoints go on past an
 * accounted gap and tree sizes stay equal to seqs (docs/integrity.md "Accounted gaps").
 */
import type { AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import { TollgateError } from '../core/errors.js';
import { chainLinks, type EventStore } from '../store/event-store.js';
import { DEFAULT_ORIGIN_PREFIX, checkpointOrigin, openCheckpoint, signCheckpoint } from './checkpoint.js';
import type { CheckpointStore, StoredCheckpoint } from '../store/checkpoint-store.js';
import { LOST_LEAF, matchHoles, parseGapRecord, type ChainHole, type GapRecord } from './gap-record.js';
import { CompactRange, EventLeafHasher } from './merkle.js';
import { foldLinksInWorkers } from './verify-fast.js';
import type { NoteVerifier } from './signed-note.js';
import type { SigningKey } from './signing-key.js';
import type { Witness } from './witness.js';

export interface CheckpointWriterOptions {
  chainId: string;
  key: SigningKey;
  store: CheckpointStore;
  clock: Clock;
  /** Checkpoint after this many new events (default 1000). */
  everyEvents?: number;
  /** Checkpoint (or heartbeat) after this much time (default 60 000 ms). */
  everyMs?: number;
  /** First part of the checkpoint origin (default `tollgate`): origin = `<prefix>/<chain id>`. */
  originPrefix?: string;
  witnesses?: readonly Witness[];
  /** Earlier verifier keys (the keyring), so `resume` trusts checkpoints signed before a rotation. */
  previousKeys?: readonly NoteVerifier[];
  /** `resume` on a SQLite file: worker threads (default one per core) from minEvents (default 50,000) new events. */
  resumeInWorkers?: { workers?: number; minEvents?: number };
  /** Failures of the store or a witness; checkpointing goes on. Never receives key material. */
  onError?: (err: unknown) => void;
}

/** Counters for /metrics and tests. */
export interface CheckpointWriterStats {
  checkpoints: number;
  heartbeats: number;
  failures: number;
  treeSize: number;
}

export class CheckpointWriter {
  private range: CompactRange;
  private readonly leafHasher = new EventLeafHasher();
  private lastCheckpointSize = -1;
  private lastCheckpointMs: number;
  private pending: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private broken = false;
  /** Seq ranges the writer lost and that no written event has passed yet, ascending. */
  private lost: Array<{ first: number; last: number }> = [];
  private readonly stats: CheckpointWriterStats = { checkpoints: 0, heartbeats: 0, failures: 0, treeSize: 0 };
  private readonly everyEvents: number;
  private readonly everyMs: number;
  private readonly origin: string;

  private constructor(
    private readonly options: CheckpointWriterOptions,
    range: CompactRange,
    lastCheckpoint: { size: number; ms: number } | null,
  ) {
    this.range = range;
    this.everyEvents = options.everyEvents ?? 1000;
    this.everyMs = options.everyMs ?? 60_000;
    this.origin = checkpointOrigin(options.chainId, options.originPrefix ?? DEFAULT_ORIGIN_PREFIX);
    this.lastCheckpointSize = lastCheckpoint?.size ?? -1;
    this.lastCheckpointMs = lastCheckpoint?.ms ?? options.clock.now();
    this.stats.treeSize = range.size;
  }

  /** When this chain's newest checkpoint was signed (this writer's start while it has none). */
  get lastCheckpointAtMs(): number {
    return this.lastCheckpointMs;
  }

  /** A writer for a new, empty chain. */
  static forNewChain(options: CheckpointWriterOptions): CheckpointWriter {
    return new CheckpointWriter(options, new CompactRange(), null);
  }

  /**
   * A writer that continues a stored chain: starts from the newest stored checkpoint's frontier
   * (after checking it against the checkpoint's signed root) and reads the events written after
   * it, checking their links, so it never signs over a chain that was broken meanwhile.
   */
  static async resume(options: CheckpointWriterOptions, events: EventStore): Promise<CheckpointWriter> {
    const latest = await options.store.latest(options.chainId);
    let range = new CompactRange();
    let last: { size: number; ms: number } | null = null;
    if (latest?.frontier) {
      const opened = openCheckpoint(latest.note, [options.key.verifier(), ...(options.previousKeys ?? [])]);
      const candidate = new CompactRange(
        latest.tree_size,
        latest.frontier.map((h) => Buffer.from(h, 'hex')),
      );
      if (
        opened.ok &&
        opened.checkpoint.treeSize === latest.tree_size &&
        candidate.root().equals(opened.checkpoint.rootHash)
      ) {
        range = candidate;
        last = { size: latest.tree_size, ms: latest.created_ms };
      }
    }
    const writer = new CheckpointWriter(options, range, last);
    let prevHash: string | null = null;
    // First start on a large chain without checkpoints: links and leaves in worker threads
    // (verify-fast.ts); anything irregular is left to the sequential read below.
    const fast = await foldLinksInWorkers(events, options.chainId, range, options.resumeInWorkers);
    if (fast) {
      writer.range = fast.range;
      prevHash = fast.lastHash;
    }
    // A hole is accepted only if a gap record after it, in the part read here, accounts for it.
    const holes: ChainHole[] = [];
    const records: GapRecord[] = [];
    // Links only (no content): the first start on a large chain without checkpoints reads all of it.
    for await (const e of chainLinks(events, options.chainId, writer.range.size + 1)) {
      const seq = e.seq;
      if (e.hash === null || seq < writer.range.size + 1)
        throw new TollgateError('TG_ERR_INTEGRITY_BROKEN', { chain_id: options.chainId, seq: e.seq });
      if (seq > writer.range.size + 1) {
        holes.push({ first_seq: writer.range.size + 1, last_seq: seq - 1, next_prev_hash: e.prev_hash });
        writer.range.appendRepeated(LOST_LEAF, seq - 1 - writer.range.size);
      } else if (prevHash !== null && e.prev_hash !== prevHash) {
        throw new TollgateError('TG_ERR_INTEGRITY_BROKEN', { chain_id: options.chainId, seq: e.seq });
      }
      const record = e.admin ? parseGapRecord(e.admin) : null;
      if (record) records.push(record);
      writer.range.append(writer.leafHasher.hash(e.hash));
      prevHash = e.hash;
    }
    const unaccounted = matchHoles(holes, records).unaccounted[0];
    if (unaccounted)
      throw new TollgateError('TG_ERR_INTEGRITY_BROKEN', {
        chain_id: options.chainId,
        seq: unaccounted.hole.first_seq,
      });
    writer.stats.treeSize = writer.range.size;
    return writer;
  }

  /** Current tree size (events covered by the in-memory tree). */
  get treeSize(): number {
    return this.range.size;
  }

  /**
   * Seqs of this chain that the writer could neither store nor spool (the writer's `onLost`, told
   * before any later seq is written). Their leaves are added as LOST_LEAF when a written event
   * passes them; the writer chains a gap record that names them.
   */
  recordLost(range: { chain_id: string; first_seq: number; last_seq: number }): void {
    if (range.chain_id !== this.options.chainId || range.last_seq <= this.range.size) return;
    const first = Math.max(range.first_seq, this.range.size + 1);
    const tail = this.lost[this.lost.length - 1];
    // While nothing can be written, each lost event continues the last run: extend it.
    if (tail && first === tail.last + 1) tail.last = range.last_seq;
    else if (!tail || first > tail.last) this.lost.push({ first, last: range.last_seq });
    else {
      this.lost.push({ first, last: range.last_seq });
      this.lost.sort((a, b) => a.first - b.first);
    }
  }

  /** Adds LOST_LEAF for every seq up to `upTo` if all of them were declared lost; false otherwise. */
  private passLost(upTo: number): boolean {
    while (this.range.size < upTo) {
      const next = this.range.size + 1;
      while (this.lost.length > 0 && this.lost[0]!.last < next) this.lost.shift();
      const run = this.lost[0];
      if (!run || run.first > next) return false;
      const end = Math.min(run.last, upTo);
      this.range.appendRepeated(LOST_LEAF, end - this.range.size);
    }
    return true;
  }

  /**
   * Adds events that are now durably stored, in seq order. Events of other chains are ignored.
   * Never throws: a gap in seq that the writer did not declare lost (a bug upstream) is reported
   * through onError and stops this writer.
   */
  recordWritten(events: readonly AuditEvent[]): void {
    if (this.broken) return;
    for (const e of events) {
      if (e.chain_id !== this.options.chainId) continue;
      if (e.seq !== null && e.seq > this.range.size + 1 && this.lost.length > 0) this.passLost(e.seq - 1);
      if (e.seq !== this.range.size + 1 || e.hash === null) {
        this.broken = true;
        this.report(
          new TollgateError('TG_ERR_INTEGRITY_CHAIN_STATE', {
            chain_id: this.options.chainId,
            seq: e.seq,
            expected: this.range.size + 1,
          }),
        );
        return;
      }
      this.range.append(this.leafHasher.hash(e.hash));
    }
    this.stats.treeSize = this.range.size;
    if (this.range.size - Math.max(this.lastCheckpointSize, 0) >= this.everyEvents) void this.enqueue(false);
  }

  /** Time check: writes a checkpoint, or a heartbeat when idle, once `everyMs` has passed. */
  tick(): Promise<void> {
    if (this.options.clock.now() - this.lastCheckpointMs >= this.everyMs)
      void this.enqueue(this.range.size === this.lastCheckpointSize);
    return this.pending;
  }

  /** Writes a checkpoint of the current tree now and resolves with it once stored. */
  async checkpointNow(): Promise<StoredCheckpoint | null> {
    return this.enqueue(this.range.size === this.lastCheckpointSize);
  }

  /** Resolves once every checkpoint requested so far was handled. */
  flush(): Promise<void> {
    return this.pending;
  }

  /** Calls `tick` on a timer (unref'd, so it never keeps the process alive). */
  start(intervalMs = Math.min(this.everyMs, 1000)): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes a final checkpoint so the tail is covered. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.range.size !== this.lastCheckpointSize) await this.checkpointNow();
    await this.pending;
  }

  getStats(): CheckpointWriterStats {
    return { ...this.stats };
  }

  private enqueue(heartbeat: boolean): Promise<StoredCheckpoint | null> {
    if (this.broken) return Promise.resolve(null);
    const now = this.options.clock.now();
    const checkpoint: StoredCheckpoint = {
      chain_id: this.options.chainId,
      tree_size: this.range.size,
      created_ms: now,
      note: signCheckpoint(
        { origin: this.origin, treeSize: this.range.size, rootHash: this.range.root(), timeMs: now },
        [this.options.key],
      ),
      frontier: this.range.frontier().map((h) => h.toString('hex')),
    };
    // Counted as written when requested, so bursts do not queue one checkpoint per event.
    this.lastCheckpointSize = this.range.size;
    this.lastCheckpointMs = now;
    const done = this.pending.then(async () => {
      try {
        await this.options.store.append(checkpoint);
        if (heartbeat) this.stats.heartbeats += 1;
        else this.stats.checkpoints += 1;
      } catch (err) {
        this.report(err);
        return null;
      }
      for (const w of this.options.witnesses ?? []) {
        try {
          await w.submit(checkpoint);
        } catch (err) {
          this.report(err);
        }
      }
      return checkpoint;
    });
    this.pending = done.then(() => undefined);
    return done;
  }

  private report(err: unknown): void {
    this.stats.failures += 1;
    try {
      this.options.onError?.(err);
    } catch {
      // The callback must not break checkpointing.
    }
  }
}
