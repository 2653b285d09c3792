/**
 * Detector windows shared by gateway replicas. Each detector keeps its in-process window (the
 * default, and the fallback); with shared windows it also adds every count to a shared total
 * (Redis, src/state/redis-shared-windows.ts) and decides on the larger of the two. Counts are
 * batched off the request path, so the shared total a replica sees is the merged total of its
 * last flush (every ~200 ms) plus what it added since.
 */

export interface SharedWindowSpec {
  windowMs: number;
  /** Resolution: the shared window slides by buckets of this size. */
  bucketMs: number;
}

/** Called after a flush with a subject's merged total (all replicas, this replica's counts included). */
export type MergedListener = (subject: string, total: number, nowMs: number) => void;

export interface SharedWindow {
  /**
   * Counts `amount` for `subject` (sent with the next flush) and returns the best known total
   * across replicas, or null when no fresh merged total is known (first sight, or the shared
   * store is down): the caller then relies on its own window.
   */
  add(subject: string, amount: number, nowMs: number): number | null;
  /** The best known total without adding; null as for `add`. */
  total(subject: string, nowMs: number): number | null;
}

export interface SharedSetSpec {
  windowMs: number;
  /** Members kept per subject (the most recent); counts above it are capped. */
  maxMembers: number;
}

/** Distinct members per subject within a window (e.g. key fingerprints failing from one IP). */
export interface SharedSet {
  /** Adds `member` for `subject` and returns the best known distinct count across replicas, or null as for SharedWindow.add. */
  add(subject: string, member: string, nowMs: number): number | null;
}

/** The current run of growth in a series (e.g. a session's input tokens per request). */
export interface GrowthRun {
  /** The latest value; -1 before the first. */
  last: number;
  /** Values in the current growing run, counting its first; 0 before the first value. */
  run: number;
  /** The first value of the run. */
  start: number;
}

/** The empty run, before any value. */
export const NO_RUN: GrowthRun = { last: -1, run: 0, start: 0 };

/**
 * Extends `r` by `value`: a larger value grows the run, a smaller one starts a new run, an equal
 * one (a retry) neither grows nor breaks it. Returns a new object. The Redis script of the shared
 * runs applies the same rule (src/state/redis-shared-windows.ts).
 */
export function extendRun(r: GrowthRun, value: number): GrowthRun {
  if (value > r.last && r.run > 0) return { last: value, run: r.run + 1, start: r.start };
  if (value < r.last || r.run === 0) return { last: value, run: 1, start: value };
  return { last: value, run: r.run, start: r.start };
}

export interface SharedRunSpec {
  /** A subject idle this long is forgotten (its shared record expires). */
  ttlMs: number;
}

/** Called after a flush with a subject's merged run (all replicas' values, in flush order). */
export type RunListener = (subject: string, run: GrowthRun, nowMs: number) => void;

/** Growth runs of series whose values arrive on any replica (one series per subject). */
export interface SharedRuns {
  /**
   * Appends `value` to the subject's series (sent with the next flush) and returns the merged run
   * with every value appended here since applied, or null when no fresh merged run is known.
   */
  add(subject: string, value: number, nowMs: number): GrowthRun | null;
}

export interface SightingsSpec {
  /** A subject unseen this long is forgotten (its shared record expires, and it warms up again). */
  ttlMs: number;
  /** Members recorded per subject; past it a new member is not recorded. */
  maxMembers: number;
  /**
   * A member first seen while its subject warms up (at most `warmupEvents` sightings so far, or
   * first seen less than `warmupMs` ago) is known at once; a later one only `quarantineMs` after
   * its first sighting (until then it is new).
   */
  warmupMs: number;
  warmupEvents: number;
  quarantineMs: number;
}

/** What every replica together knows of a subject's members (e.g. the networks a key was used from). */
export interface SightingsView {
  /** The subject's first sighting on any replica. */
  firstMs: number;
  /** Sightings of the subject on every replica, those of this replica not yet flushed included. */
  events: number;
  /** Members known at the last flush (seen during the warm-up, or past their quarantine). */
  known: number;
}

/**
 * Called after a flush for each member this replica saw since the last one, with the merged
 * record: `raised` says whether this replica already alerted on it at its sighting.
 */
export type SightingListener = (
  subject: string,
  member: string,
  knownFromMs: number,
  sighting: { firstMs: number; raised: boolean },
  view: SightingsView,
  nowMs: number,
) => void;

/** First sightings of members per subject, with the warm-up and quarantine decided once for all replicas. */
export interface SharedSightings {
  /**
   * From when `member` is known (later than now: it is new), as merged at this replica's last
   * flush; null when that flush did not record it (not sent from here yet) or is not fresh (first
   * sight here, or the shared store down): the flush decides then.
   */
  knownFrom(subject: string, member: string, nowMs: number): number | null;
  /** The merged record with this replica's unflushed sightings; null when none is fresh. */
  view(subject: string, nowMs: number): SightingsView | null;
  /** Records a sighting (sent with the next flush); `raised`: this replica alerted on it already. */
  see(subject: string, member: string, nowMs: number, raised: boolean): void;
}

export interface SharedWindows {
  /**
   * False once a flush failed (until one succeeds): rules that wait for the merged figures
   * instead of deciding on their own decide on their own again while this is false.
   */
  available(): boolean;
  /** Growth runs per subject; `onMerged` sees each merged run after a flush. */
  openRuns(name: string, spec: SharedRunSpec, onMerged?: RunListener): SharedRuns;
  /** First sightings of members per subject; `onMerged` sees each member this replica saw. */
  openSightings(name: string, spec: SightingsSpec, onMerged?: SightingListener): SharedSightings;
  /** A named set window; `onMerged` sees the merged distinct count of a subject after a flush. */
  openSet(name: string, spec: SharedSetSpec, onMerged?: MergedListener): SharedSet;
  /**
   * A named window (one per detector and subject kind, e.g. `auth.key`). `onMerged` sees every
   * merged total read back for a subject this replica counted: a burst spread over replicas
   * crosses a threshold there, not on any single replica's event.
   */
  open(name: string, spec: SharedWindowSpec, onMerged?: MergedListener): SharedWindow;
}

/** The answer to a claim: the alert that owns the incident, and whether this claim raised its severity. */
export interface IncidentClaim {
  owner: string;
  /** The claim's severity is above every earlier claim's: this replica sends the escalation (once across replicas). */
  escalated: boolean;
}

/**
 * Claims an incident for one alert across replicas: the first replica to claim `incident` gets
 * its own `alertId` back; the others get the winner's id and update that alert instead of
 * raising another. Each claim also records its severity (`severityRank`), so that the one replica
 * that first sees the incident at a higher severity sends the escalation. Null when the shared
 * store did not answer (raise locally then).
 */
export interface IncidentClaims {
  claim(
    incident: string,
    alertId: string,
    ttlMs: number,
    severityRank?: number,
  ): Promise<IncidentClaim | null>;
}
