import type { Worker } from 'node:worker_threads';
import type { AuditEvent } from '../../core/audit-event.js';
import { closeModuleWorker, spawnModuleWorker } from '../../core/module-worker.js';
import { TollgateError } from '../../core/errors.js';
import type { EventStore } from '../event-store.js';
import type { AppendDone, AppendJob } from './sqlite-append-worker.js';

interface Pending {
  resolve: () => void;
  reject: (err: unknown) => void;
  batch: number;
}

/** One worker and the batches sent to it: a worker that dies fails only its own. */
interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** Starts the worker for `file` (tests inject a stand-in to drive its failures). */
export type SpawnAppendWorker = (file: string) => Worker;

const spawnAppendWorker: SpawnAppendWorker = (file) =>
  spawnModuleWorker(import.meta.url, 'sqlite-append-worker', { file });

/**
 * Appends events to a SQLite file from a worker thread (issue 22: the writer off the event loop's
 * critical path). The batch is serialised once on the event loop (one JSON array, encoded to one
 * buffer that is transferred, not copied); the worker parses it and commits it with the rollups
 * on its own connection. `append` resolves once the transaction committed, exactly like
 * `SqliteEventStore.append`, so the writer's promises (fail-closed's held response, onWritten,
 * the spool on failure) keep their meaning. Reads stay on the gateway's connection (WAL: a read
 * sees every committed batch). A worker that dies fails its own batches (the writer spools them)
 * and the next append starts a new one; so does a worker that could not open the store (it is
 * stopped on its first answer, so a passing cause such as EMFILE at boot does not stay).
 */
export class SqliteAppendThread implements Pick<EventStore, 'append' | 'probeWrite'> {
  private slot: Slot | null = null;
  private nextId = 0;
  private readonly encoder = new TextEncoder();

  /** `probe`: the gateway connection's one-row write (EventStore.probeWrite), used as is. */
  constructor(
    private readonly file: string,
    private readonly probe?: () => Promise<void>,
    private readonly spawn: SpawnAppendWorker = spawnAppendWorker,
  ) {}

  append(events: readonly AuditEvent[]): Promise<void> {
    const batch = this.encoder.encode(JSON.stringify(events));
    const { worker, pending } = this.thread();
    const id = this.nextId++;
    // Referenced while a batch is out: a drain at shutdown awaits it with nothing else running.
    if (pending.size === 0) worker.ref();
    return new Promise<void>((resolve, reject) => {
      pending.set(id, { resolve, reject, batch: events.length });
      worker.postMessage({ id, batch } satisfies AppendJob, [batch.buffer]);
    });
  }

  async probeWrite(): Promise<void> {
    await this.probe?.();
  }

  /** Stops the worker once its batches are answered (the writer drains first). */
  async close(): Promise<void> {
    const worker = this.slot?.worker;
    if (!worker) return;
    this.slot = null;
    await closeModuleWorker(worker);
  }

  private thread(): Slot {
    if (this.slot) return this.slot;
    const worker = this.spawn(this.file);
    const slot: Slot = { worker, pending: new Map() };
    const { pending } = slot;
    const detach = (): void => {
      if (this.slot === slot) this.slot = null;
    };
    worker.on('message', (m: AppendDone) => {
      // A worker without a store answers every batch with that error: stopped now (its other
      // batches fail on its exit), so the next append starts a fresh one.
      if (m.error?.open) detach();
      const p = pending.get(m.id);
      if (p) {
        pending.delete(m.id);
        if (pending.size === 0) worker.unref();
        if (!m.error) p.resolve();
        else
          p.reject(
            new TollgateError(
              'TG_ERR_STORE_WRITE',
              { store: 'sqlite', batch: p.batch, sqlite: m.error.sqlite },
              { cause: m.error.code ?? m.error.sqlite ?? 'unknown' },
            ),
          );
      }
      if (m.error?.open) void worker.terminate();
    });
    const fail = (err: unknown): void => {
      detach();
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(
          new TollgateError(
            'TG_ERR_STORE_WRITE',
            { store: 'sqlite', batch: p.batch, thread: true },
            { cause: err },
          ),
        );
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`append thread exited (${code})`)));
    // An idle worker does not keep the process alive (append refs it while a batch is out).
    worker.unref();
    this.slot = slot;
    return slot;
  }
}
