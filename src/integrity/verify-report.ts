/**
 * The report of `tollgate verify` (verify.ts) and its options: what a run found per chain (the
 * first damage and every later one, accounted gaps, pruned ranges) and what a caller may ask of it.
 */
import type { Clock } from '../core/clock.js';
import type { GapRecord } from './gap-record.js';
import type { PrunedRange } from './verify-pruned.js';

/** What went wrong, from the point of view of the chain. */
export type DamageKind =
  /** an event's content, hash, seq or link was changed */
  | 'modified'
  /** an event is missing from the middle of the chain */
  | 'deleted'
  /** an extra event that the chain never had */
  | 'inserted'
  /** events are intact but in the wrong positions (seq values exchanged) */
  | 'reordered'
  /** the chain ends before a signed checkpoint says it should */
  | 'truncated'
  /** a checkpoint whose signature does not verify, is by an unknown key, or names another log */
  | 'checkpoint_forged'
  /** a checkpoint a witness holds is gone from the store, or checkpoints stopped coming */
  | 'checkpoint_missing';

export interface Damage {
  kind: DamageKind;
  chain_id: string;
  /**
   * The chain position (expected seq) where verification first fails: the changed, missing,
   * extra or misplaced event; for checkpoint damage, null.
   */
  seq: number | null;
  /** Id of the stored event found at that position (for `deleted`, the event after the gap); null if none. */
  event_id: string | null;
  /** For checkpoint damage and root mismatches: the tree size of the checkpoint concerned. */
  checkpoint_size: number | null;
  /** One line for people; ids and sizes only, never content. */
  detail: string;
}

/**
 * Events the writer could not store, named by a chained gap record whose range and hash check out
 * (the record's fields; `crash`: `count` is an upper bound and `at` a lower bound on when the lost
 * events were answered, see GapRange).
 */
export type AccountedGap = GapRecord;

export interface ChainVerifyReport {
  chain_id: string;
  /** False on damage, and with `strict` also when the chain has accounted gaps. */
  ok: boolean;
  /** Events whose hash was recomputed (after `--from`, only those after the trusted checkpoint). */
  events_checked: number;
  /** Events in the verified chain (tree size reached). */
  tree_size: number;
  /** Base64 RFC 6962 root at `tree_size`, when the chain verified up to there. */
  root_hash: string | null;
  checkpoints_checked: number;
  /** Newest checkpoint that verified, to keep as the `--from` point of a later run. */
  latest_checkpoint: { tree_size: number; time: string | null; note: string } | null;
  damage: Damage | null;
  /**
   * Every damage found in the chain, in chain order: `damage` first, then each later damaged
   * event (and each bad checkpoint). Empty when the chain is intact.
   */
  damages: Damage[];
  /** Holes that gap records account for, in seq order (their seqs are in `tree_size`, not in `events_checked`). */
  accounted_gaps: AccountedGap[];
  /** Ranges retention pruned under signed prune records (verify-pruned.ts); the walk starts after them. */
  pruned: PrunedRange[];
  /**
   * `since`: the verified checkpoint this run started after. Events up to its tree size were not
   * read again (a change to them is out of scope of this run); `events_checked` counts the others.
   */
  since_checkpoint?: { tree_size: number; time: string | null };
  /** `since`: why this chain was verified whole instead (no recorded checkpoint, or it did not check out). */
  since_checkpoint_unusable?: string;
  /** `from`: why the trusted checkpoint was not the start of this chain's walk (a pruned chain starts at its prune boundary). */
  from_unused?: string;
}

export interface VerifyReport {
  ok: boolean;
  chains: ChainVerifyReport[];
  events_checked: number;
  checkpoints_checked: number;
  /** The damage of the first damaged chain (chains in id order), or null. */
  first_damage: Damage | null;
  /** How many damages all chains have (the length of every chain's `damages`, summed). */
  damage_count: number;
  /** Accounted gaps in all chains, and the events they say were not stored. */
  accounted_gaps: number;
  events_not_stored: number;
  /** Events deleted by retention under signed prune records, in all chains. */
  events_pruned: number;
  /** Whether accounted gaps counted as a failure (`--strict`). */
  strict: boolean;
  duration_ms: number;
  /** Events of intact segments read and hashed in worker threads (the rest on the calling thread). */
  events_hashed_in_workers: number;
}

export interface VerifyProgress {
  chain_id: string;
  events: number;
  /** Events the store says the chain has, when known. */
  total: number | null;
}

/** A checkpoint note held by a witness (see witness.ts `readWitnessFile`). */
export interface WitnessNote {
  chain_id?: string;
  note: string;
}

export interface VerifyOptions {
  /** A trusted checkpoint note: its chain is verified from there on (see docs/integrity.md). */
  from?: string;
  /** Only this chain. */
  chainId?: string;
  /** Checkpoints from witnesses: they must be in the store, and they bound the chain's length. */
  witnessNotes?: readonly WitnessNote[];
  /** Checkpoint origin prefix (default `tollgate`). */
  originPrefix?: string;
  /** Called every `progressEvery` events and at the end of each chain. */
  onProgress?: (progress: VerifyProgress) => void;
  progressEvery?: number;
  /**
   * With a clock: a chain whose newest valid checkpoint is older than this is reported as
   * `checkpoint_missing` (heartbeats stopped, or recent checkpoints were deleted).
   */
  maxCheckpointAgeMs?: number;
  clock?: Clock;
  /** Rows read per page from the store. */
  pageSize?: number;
  /** Accounted gaps make the chain (and the report) not ok, as damage does (`--strict`). */
  strict?: boolean;
  /**
   * Worker threads that read and hash chain segments through connections of their own to the
   * store, a SQLite file or PostgreSQL (default: one per core, two on PostgreSQL); 0: none. A store workers cannot
   * reach (SQLite in memory, PostgreSQL on a caller's pool), and chains with fewer than
   * `workerMinEvents` events to check, are read in segments on the calling thread.
   */
  workers?: number;
  /** Default 50,000. */
  workerMinEvents?: number;
  /** Events per segment (default 16,384). */
  segmentSize?: number;
  /**
   * Only the single sequential walk (the verifier before segments and workers existed): for
   * comparisons. By default an intact chain is confirmed segment by segment, in parallel, and a
   * chain with any irregularity is verified by the sequential walk, which names every damage.
   */
  sequentialOnly?: boolean;
  /**
   * Incremental verify (`--since-checkpoint`): per chain id, the note of a checkpoint an earlier run
   * verified (verified-checkpoints.ts). Such a chain is verified only after it (verify-since.ts);
   * other chains, and a chain whose checkpoint does not check out, are verified whole.
   */
  since?: ReadonlyMap<string, string>;
}
