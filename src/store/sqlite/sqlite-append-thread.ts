import type { Worker } from 'node:worker_threads';
import type { AuditEvent } from '../../core/audit-event.js';
import { spawnModuleWorker } from '../../core/module-worker.js';
import { TollgateError } from '../../core/errors.js';
import type { EventStore } from '../event-store.js';
import type { AppendDone, AppendJob } from './sqlite-append-worker.js';

interface Pending {
  resolve: () => void;
  reject: (err: unknown) => void;
  batch: number;
}

/**
 * Appends events to a SQLite file from a worker thread (issue 22: the writer off the event loop's
 * critical path). The batch is serialised once on the event loop (one JSON array, encoded to one
 * buffer that is transferred, not copied); the worker parses it and commits it with the rollups
 * on its own connection. `append` resolves once the transaction committed, exactly like
 * `SqliteEventStore.append`, so the writer's promises (fail-closed's held response, onWritten,
 * the spool on failure) keep their meaning. Reads stay on the gateway's connection (WAL: a read
 * sees every committed batch). A worker that dies fails its batches (the writer spools them) and
 * the next append starts a new one.
 */
export class SqliteAppendThread implements Pick<EventStore, 'append' | 'probeWrite'> {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private readonly encoder = new TextEncoder();

  /** `probe`: the gateway connection's one-row write (EventStore.probeWrite), used as is. */
  constructor(
    private readonly file: string,
    private readonly probe?: () => Promise<void>,
  ) {}

  append(events: readonly AuditEvent[]): Promise<void> {
    const batch = this.encoder.encode(JSON.stringify(events));
    const worker = this.thread();
    const id = this.nextId++;
    // Referenced while a batch is out: a drain at shutdown awaits it with nothing else running.
    if (this.pending.size === 0) worker.ref();
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, batch: events.length });
      worker.postMessage({ id, batch } satisfies AppendJob, [batch.buffer]);
    });
  }

  async probeWrite(): Promise<void> {
    await this.probe?.();
  }

  /** Stops the worker once its batches are answered (the writer drains first). */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage('close');
    await exited;
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = spawnModuleWorker(import.meta.url, 'sqlite-append-worker', { file: this.file });
    worker.on('message', (m: AppendDone) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (!m.error) p.resolve();
      else
        p.reject(
          new TollgateError(
            'TG_ERR_STORE_WRITE',
            { store: 'sqlite', batch: p.batch, sqlite: m.error.sqlite },
            { cause: m.error.code ?? m.error.sqlite ?? 'unknown' },
          ),
        );
    });
    const fail = (err: unknown): void => {
      if (this.worker === worker) this.worker = null;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
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
    this.worker = worker;
    return worker;
  }
}
