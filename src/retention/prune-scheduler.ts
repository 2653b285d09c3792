/**
 * The gateway's scheduled prune: one run every `everyMs` on an unref'd timer, never on the
 * request path, one run at a time, each bounded by the policy's batch per chain. A failed run is
 * logged and retried at the next tick; nothing is deleted before its signed record is stored.
 */
import type { PruneResult } from './prune.js';

export interface PruneSchedulerOptions {
  run: () => Promise<PruneResult>;
  everyMs: number;
  onResult?: (r: PruneResult) => void;
  onError?: (err: unknown) => void;
}

export class PruneScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<PruneResult | null> | null = null;
  private closed = false;

  constructor(private readonly o: PruneSchedulerOptions) {}

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.runNow(), this.o.everyMs);
    this.timer.unref();
  }

  /** Runs one prune now, or waits for the one running; null after close or on error. */
  runNow(): Promise<PruneResult | null> {
    if (this.closed) return Promise.resolve(null);
    if (this.running) return this.running;
    this.running = this.o
      .run()
      .then(
        (r) => {
          this.o.onResult?.(r);
          return r;
        },
        (err: unknown) => {
          this.o.onError?.(err);
          return null;
        },
      )
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** Stops the timer and waits for a run in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.running) await this.running;
  }
}
