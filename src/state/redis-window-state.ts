/**
 * What RedisSharedWindows keeps in memory per window, set, run and sightings subject: the merged
 * value last read from Redis, what was added here since (pending), and what a flush has in flight.
 */
import type { ChainableCommander } from 'ioredis';
import type {
  GrowthRun,
  MergedListener,
  RunListener,
  SharedRunSpec,
  SharedSetSpec,
  SharedWindowSpec,
  SightingListener,
  SightingsSpec,
} from '../detection/shared-windows.js';

export interface SubjectState {
  /** The Redis key, named by the subject's keyed hash (subjects may be user ids or IPs: never stored as they are). */
  key: string;
  merged: number;
  mergedAtMs: number;
  /** Added here and not yet part of `merged` (pending plus in flight). */
  unconfirmed: number;
  /** Pending deltas by bucket start, sent at the next flush. */
  pending: Map<number, number>;
}

export interface WindowState {
  name: string;
  spec: SharedWindowSpec;
  onMerged: MergedListener | undefined;
  subjects: Map<string, SubjectState>;
  dirty: Set<string>;
}

export interface SetSubjectState {
  key: string;
  /** Members of the merged set at the last flush (hashed). */
  merged: Set<string>;
  mergedAtMs: number;
  /** Members added here since (hashed → last ms), sent at the next flush. */
  pending: Map<string, number>;
}

export interface SetState {
  name: string;
  spec: SharedSetSpec;
  onMerged: MergedListener | undefined;
  subjects: Map<string, SetSubjectState>;
  dirty: Set<string>;
}

export interface RunSubjectState {
  key: string;
  merged: GrowthRun;
  mergedAtMs: number;
  /** Values appended here and not yet sent. */
  pending: number[];
  /** Values of the flush in flight. */
  inFlight: number[];
}

export interface RunsState {
  spec: SharedRunSpec;
  onMerged: RunListener | undefined;
  subjects: Map<string, RunSubjectState>;
  dirty: Set<string>;
}

export interface Sighting {
  /** The member as the detector knows it (kept in this process only; Redis gets its keyed hash). */
  member: string;
  firstMs: number;
  /** Sightings of the subject before this member's first one, in the same batch. */
  before: number;
  raised: boolean;
}

export interface SightSubjectState {
  key: string;
  firstMs: number;
  events: number;
  /** Member hash → ms from which it is known, for the members this replica sent (values only move earlier). */
  members: Map<string, number>;
  /** Members known at the last flush (all replicas'). */
  known: number;
  mergedAtMs: number;
  /** Sightings not yet sent: the subject's first ms and count, and the members by hash. */
  pendingFirstMs: number;
  pendingEvents: number;
  pending: Map<string, Sighting>;
  /** Sightings sent and not yet answered. */
  inFlightEvents: number;
}

export interface SightingsState {
  spec: SightingsSpec;
  onMerged: SightingListener | undefined;
  subjects: Map<string, SightSubjectState>;
  dirty: Set<string>;
}

/** One script call of a flush: queued into the pipeline, then given its reply or the failure. */
export interface FlushCall {
  queue(pipeline: ChainableCommander): void;
  done(reply: unknown): void;
  failed(): void;
}

/**
 * A key's merged sightings stay usable this long, and a use that changes nothing shared (the key
 * warmed up, the network known) is not sent again within it: known-from times only move earlier
 * and a warm-up only progresses, so an older record never calls a known network new; a network
 * this replica has not had merged is decided at the flush anyway. Sending at least this often
 * keeps the record's expiry (the rule's ttl, days) moving.
 */
export const SIGHTINGS_FRESH_MS = 10 * 60_000;

/** Values kept per run subject while they cannot be sent (oldest dropped first). */
export const MAX_PENDING_VALUES = 1024;

export interface Sent {
  w: WindowState;
  subject: string;
  s: SubjectState;
  bucket: number;
  delta: number;
}

export function unionSize(a: ReadonlySet<string>, b: ReadonlyMap<string, number>): number {
  let n = a.size;
  for (const m of b.keys()) if (!a.has(m)) n++;
  return n;
}
