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

export interface SharedWindows {
  /** A named set window; `onMerged` sees the merged distinct count of a subject after a flush. */
  openSet(name: string, spec: SharedSetSpec, onMerged?: MergedListener): SharedSet;
  /**
   * A named window (one per detector and subject kind, e.g. `auth.key`). `onMerged` sees every
   * merged total read back for a subject this replica counted: a burst spread over replicas
   * crosses a threshold there, not on any single replica's event.
   */
  open(name: string, spec: SharedWindowSpec, onMerged?: MergedListener): SharedWindow;
}

/**
 * Claims an incident for one alert across replicas: the first replica to claim `incident` gets
 * its own `alertId` back; the others get the winner's id and update that alert instead of
 * raising another. Null when the shared store did not answer (raise locally then).
 */
export interface IncidentClaims {
  claim(incident: string, alertId: string, ttlMs: number): Promise<string | null>;
}
