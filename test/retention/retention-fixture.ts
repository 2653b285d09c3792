import Database from 'better-sqlite3';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { ManualClock } from '../../src/core/clock.js';
import { CheckpointWriter } from '../../src/integrity/checkpoint-writer.js';
import { createChainer, type HashChainer } from '../../src/integrity/hash-chain.js';
import { generateSigningKey, type SigningKey } from '../../src/integrity/signing-key.js';
import { verifyChains, type VerifyReport } from '../../src/integrity/verify.js';
import { appendAdminEvent } from '../../src/retention/append-admin-event.js';
import { pruneStore, type PruneResult, type RetentionPolicy } from '../../src/retention/prune.js';
import { SqliteCheckpointStore } from '../../src/store/sqlite/sqlite-checkpoints.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { createSqliteRollups, type SqliteRollups } from '../../src/store/sqlite/sqlite-rollups.js';
import { sampleEvent } from '../integrity/sample-events.js';

export const DAY = 86_400_000;

/** One SQLite store written by a real chainer and checkpoint writer, with a clock the test moves. */
export class RetentionSite {
  readonly db: Database.Database;
  readonly events: SqliteEventStore;
  readonly checkpoints: SqliteCheckpointStore;
  readonly key: SigningKey = generateSigningKey('tollgate-gw-1');
  readonly clock: ManualClock;
  readonly rollups: SqliteRollups;
  private readonly chainer: HashChainer = createChainer({ chainId: 'gw-1' });
  private readonly writer: CheckpointWriter;
  private n = 0;

  constructor(everyEvents = 10, path = ':memory:', startMs = Date.UTC(2026, 0, 1)) {
    this.db = new Database(path);
    this.events = new SqliteEventStore(this.db);
    this.checkpoints = new SqliteCheckpointStore(this.db);
    // Rollups kept at write time, in the append transaction, as open-storage.ts wires them.
    this.rollups = createSqliteRollups(this.db);
    this.events.addInTransactionHook((events) => this.rollups.applyRollups(events));
    this.clock = new ManualClock(startMs);
    this.writer = CheckpointWriter.forNewChain({
      chainId: 'gw-1',
      key: this.key,
      store: this.checkpoints,
      clock: this.clock,
      everyEvents,
      everyMs: 3_600_000_000,
      witnesses: [],
    });
  }

  /** `count` events at the clock's time, each changed by `shape`. */
  async traffic(count: number, shape: (e: AuditEvent, i: number) => void = () => {}): Promise<AuditEvent[]> {
    const out: AuditEvent[] = [];
    for (let j = 0; j < count; j++) {
      const e = sampleEvent(this.n++);
      e.timestamp = new Date(this.clock.now()).toISOString();
      shape(e, this.n - 1);
      this.chainer.link(e);
      out.push(e);
    }
    await this.events.append(out);
    this.writer.recordWritten(out);
    return out;
  }

  async flushCheckpoint(): Promise<void> {
    await this.writer.flush();
  }

  prune(policy: Partial<RetentionPolicy>, dryRun = false): Promise<PruneResult> {
    return pruneStore({
      events: this.events,
      checkpoints: this.checkpoints,
      signer: this.key,
      keys: [this.key.verifier()],
      policy: { eventsMs: null, contentMs: null, batch: 10_000, ...policy },
      clock: this.clock,
      record: (e) => appendAdminEvent(this.events, 'admin-cli', e),
      dryRun,
    });
  }

  verify(): Promise<VerifyReport> {
    return verifyChains(this.events, this.checkpoints, [this.key.verifier()]);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
