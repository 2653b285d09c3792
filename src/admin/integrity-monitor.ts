/**
 * The integrity view's data: every chain with its head and newest checkpoint, and the result of
 * the last verification run from the admin API or dashboard (kept in memory; `tollgate verify`
 * remains the authoritative offline check).
 */
import type { Clock } from '../core/clock.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import { openCheckpoint } from '../integrity/checkpoint.js';
import type { NoteVerifier } from '../integrity/signed-note.js';
import type { AnchorReport } from '../integrity/anchor-check.js';
import { verifyWithAnchors } from '../integrity/anchored-verify.js';
import {
  readVerifiedCheckpoints,
  recordVerifiedCheckpoints,
  verifiedCheckpointsPath,
  type VerifiedCheckpoint,
} from '../integrity/verified-checkpoints.js';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { VerifyReport } from '../integrity/verify.js';
import type { EventStore } from '../store/event-store.js';

export interface ChainStatus {
  chain_id: string;
  events: number;
  head_seq: number;
  head_hash: string;
  last_checkpoint: {
    tree_size: number;
    created: string;
    /** How long ago it was made (clock time). */
    age_ms: number;
    /** Older than the configured maximum checkpoint age. */
    stale: boolean;
    /** The note's signature verifies with a trusted key. */
    signature_ok: boolean;
    /** Events written after the checkpoint (not yet covered by a signature). */
    events_after: number;
  } | null;
}

export interface LastVerify {
  started: string;
  finished: string;
  actor: string;
  report: VerifyReport;
  /** The anchors the run compared the store with, and each chain's newest checkpoint age. */
  anchors: AnchorReport;
  /** Incremental: only the events after each chain's last verified checkpoint were checked. */
  incremental: boolean;
}

export interface IntegrityStatus {
  chains: ChainStatus[];
  /** The anchor file (null: anchors off) and the maximum checkpoint age (null: not enforced). */
  anchors: { file: string | null; max_age_ms: number | null };
  last_verify: LastVerify | null;
  verify_running: boolean;
}

/** Chains, checkpoints and the last verification result. */
export class IntegrityMonitor {
  private last: LastVerify | null = null;
  private running: Promise<LastVerify> | null = null;
  private selfCheckTimer: NodeJS.Timeout | null = null;
  /** Per chain, the note of the newest checkpoint a run of this process found intact. */
  private readonly verified = new Map<string, string>();

  constructor(
    private readonly deps: {
      store: EventStore;
      checkpoints: CheckpointStore;
      verifiers: () => NoteVerifier[];
      clock: Clock;
      anchors: { file: string | null; maxAgeMs: number | null };
    },
  ) {}

  async status(): Promise<IntegrityStatus> {
    const heads = await this.deps.store.chainHeads();
    const keys = this.deps.verifiers();
    const chains: ChainStatus[] = [];
    for (const h of heads) {
      const cp = await this.deps.checkpoints.latest(h.chain_id);
      chains.push({
        chain_id: h.chain_id,
        events: h.seq,
        head_seq: h.seq,
        head_hash: h.hash,
        last_checkpoint: cp
          ? {
              tree_size: cp.tree_size,
              created: new Date(cp.created_ms).toISOString(),
              age_ms: this.deps.clock.now() - cp.created_ms,
              stale:
                this.deps.anchors.maxAgeMs !== null &&
                this.deps.clock.now() - cp.created_ms > this.deps.anchors.maxAgeMs,
              signature_ok: openCheckpoint(cp.note, keys).ok,
              events_after: Math.max(0, h.seq - cp.tree_size),
            }
          : null,
      });
    }
    return {
      chains,
      anchors: { file: this.deps.anchors.file, max_age_ms: this.deps.anchors.maxAgeMs },
      last_verify: this.last,
      verify_running: this.running !== null,
    };
  }

  lastVerify(): LastVerify | null {
    return this.last;
  }

  /**
   * Runs a verification; a run already in progress is joined rather than started twice. With
   * `incremental`, each chain is checked only after the newest checkpoint an earlier run (this
   * process's, or one recorded beside the anchors) found intact (`verify --since-checkpoint`).
   */
  async verify(actor: string, options: { incremental?: boolean } = {}): Promise<LastVerify> {
    if (this.running) return this.running;
    const incremental = options.incremental === true;
    const run = async (): Promise<LastVerify> => {
      const started = new Date(this.deps.clock.now()).toISOString();
      const file = this.deps.anchors.file !== null ? verifiedCheckpointsPath(this.deps.anchors.file) : null;
      const recorded = file !== null ? readVerifiedCheckpoints(file) : new Map<string, VerifiedCheckpoint>();
      // The same checks as `tollgate verify`: against the anchors, with the checkpoint age.
      const { report, anchors } = await verifyWithAnchors({
        store: this.deps.store,
        checkpoints: this.deps.checkpoints,
        anchorFile: this.deps.anchors.file,
        keys: null,
        keyring: this.deps.verifiers(),
        nowMs: this.deps.clock.now(),
        maxAgeMs: this.deps.anchors.maxAgeMs,
        strict: false,
        options: incremental
          ? {
              since: new Map([
                ...[...recorded.values()].map((v) => [v.chain_id, v.note] as const),
                ...this.verified,
              ]),
            }
          : {},
      });
      for (const c of report.chains)
        if (c.ok && c.latest_checkpoint) this.verified.set(c.chain_id, c.latest_checkpoint.note);
      if (file !== null && existsSync(dirname(file))) {
        try {
          recordVerifiedCheckpoints(file, report, this.deps.clock.now(), recorded);
        } catch {
          // The record is a shortcut for later runs; this process keeps its own.
        }
      }
      return {
        started,
        finished: new Date(this.deps.clock.now()).toISOString(),
        actor,
        report,
        anchors,
        incremental,
      };
    };
    this.running = run();
    try {
      this.last = await this.running;
      return this.last;
    } finally {
      this.running = null;
    }
  }

  /**
   * The periodic self-check: an incremental verify every `everyMs` (unref'd timer), its result
   * given to `onResult` (and shown on the integrity page as the last verification).
   */
  startSelfCheck(everyMs: number, onResult: (result: LastVerify | Error) => void): void {
    if (this.selfCheckTimer) return;
    this.selfCheckTimer = setInterval(() => {
      if (this.running) return;
      this.verify('self-check', { incremental: true }).then(onResult, (err: unknown) =>
        onResult(err instanceof Error ? err : new Error(String(err))),
      );
    }, everyMs);
    this.selfCheckTimer.unref();
  }

  stopSelfCheck(): void {
    if (this.selfCheckTimer) clearInterval(this.selfCheckTimer);
    this.selfCheckTimer = null;
  }
}
