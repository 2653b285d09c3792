import type { AlertFigures, AlertSubject, Severity } from '../alerting/alert.js';
import type { AuditEvent, RedactionCount } from '../core/audit-event.js';

/**
 * What a detector reports when its rule fires on an event. The engine turns candidates into
 * alerts (one per rule and subject while the incident lasts) and marks the event.
 */
export interface AlertCandidate {
  subject: AlertSubject;
  /** Overrides the detector's default severity (e.g. a budget crossing is HIGH, a burn warning MEDIUM). */
  severity?: Severity;
  /** Short, content-free: ids, numbers, rule names. */
  title: string;
  description: string;
  figures: AlertFigures;
}

/** Optional per-event facts the event itself does not carry. */
export interface DetectionHints {
  /**
   * Where the redactor found what it redacted. `AuditEvent.redactions` merges prompt and
   * response; with this hint the content rules tell `secret-in-prompt` from `secret-in-response`.
   */
  redactionsByPart?: { prompt: readonly RedactionCount[]; response: readonly RedactionCount[] };
}

export interface DetectionContext {
  /** Epoch ms from the engine's injected clock; detectors never read time elsewhere. */
  nowMs: number;
  hints: DetectionHints;
}

/** A rule fires on an event with zero, one or several subjects (e.g. both the key and the IP). */
export type DetectorResult = AlertCandidate | readonly AlertCandidate[] | null;

/** One detection rule with its own per-subject state (bounded; idle subjects expire). */
export interface Detector {
  /** Rule id, e.g. `auth.repeated-failures`; goes into `threat_indicators`. */
  readonly id: string;
  /** Default severity of its alerts. */
  readonly severity: Severity;
  readonly description: string;
  /** Quiet period: a firing within this long of the previous one updates the same alert (default: the engine's). */
  readonly cooldownMs?: number;
  observe(event: AuditEvent, ctx: DetectionContext): DetectorResult;
  /** Drops state of subjects idle past their time-to-live; returns how many subjects remain. */
  sweep(nowMs: number): number;
  /**
   * Detectors with windows shared across replicas also fire when a merge of the shared totals
   * (not an event) crosses their threshold; the engine hands them the function that raises those.
   */
  bindLateFiring?(fire: (result: DetectorResult, nowMs: number) => void): void;
}
