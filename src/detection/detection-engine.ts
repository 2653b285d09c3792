import type { Alert, AlertChange } from '../alerting/alert.js';
import { newAlert, severityRank } from '../alerting/alert.js';
import type { AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import type { EventObserver } from '../core/stages.js';
import type {
  AlertCandidate,
  DetectionContext,
  DetectionHints,
  Detector,
  DetectorResult,
} from './detector.js';
import type { IncidentClaim, IncidentClaims } from './shared-windows.js';

export interface DetectionEngineOptions {
  detectors: readonly Detector[];
  clock: Clock;
  /** Called with a snapshot on every new, updated or escalated alert. May be async; never awaited. */
  onAlert?: (alert: Alert, change: AlertChange) => void | Promise<void>;
  /** Called when a detector or `onAlert` throws; the event flow continues regardless. */
  onError?: (err: unknown, where: string) => void;
  /** Default quiet period: a firing within this long of the last one updates the same alert. */
  cooldownMs?: number;
  /** Event ids kept per alert. */
  evidenceCap?: number;
  /** Hard cap on incidents tracked for cooldown (least recently fired are forgotten first). */
  maxIncidents?: number;
  /**
   * Replicas sharing detector windows claim each new incident here first: one replica raises the
   * alert, the others update that same alert (its id), so one incident is one alert everywhere.
   */
  incidentClaims?: IncidentClaims;
}

export interface DetectionStats {
  events: number;
  alertsRaised: number;
  alertsUpdated: number;
  /** New incidents another replica had already raised: this one updated that alert instead. */
  alertsJoined: number;
  detectorErrors: number;
  sinkErrors: number;
  openIncidents: number;
}

/** Runs the detectors on every event, marks firing events and turns firings into alerts. */
export interface DetectionEngine extends EventObserver {
  /** `hints` carries facts the event lacks (where redactions were found). Never throws. */
  observe(event: AuditEvent, hints?: DetectionHints): void;
  /** Drops expired incident and detector state; call it now and then (e.g. every minute). */
  sweep(): void;
  stats(): DetectionStats;
}

export const DEFAULT_COOLDOWN_MS = 15 * 60_000;
export const DEFAULT_EVIDENCE_CAP = 20;

interface Incident {
  alert: Alert;
  lastMs: number;
  cooldownMs: number;
  /** Waiting for the cross-replica claim: changes are held and published with its answer. */
  claiming: boolean;
  /** Escalated while claiming. */
  escalated: boolean;
  claimedAtMs: number;
}

/** A claimed incident's claim is renewed (its expiry moved) at most this often while it fires. */
const CLAIM_RENEW_MS = 10_000;

function snapshot(a: Alert): Alert {
  return {
    ...a,
    subject: { ...a.subject },
    evidence: { ...a.evidence, event_ids: [...a.evidence.event_ids], figures: { ...a.evidence.figures } },
    deliveries: a.deliveries.map((d) => ({ ...d })),
  };
}

const NO_HINTS: DetectionHints = {};

/**
 * Creates the engine. One incident — the same rule on the same subject with no quiet gap of
 * `cooldownMs` — is one alert, updated in place (count, last_seen, capped evidence).
 */
export function createDetectionEngine(options: DetectionEngineOptions): DetectionEngine {
  const { detectors, clock } = options;
  const defaultCooldown = options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
  const evidenceCap = options.evidenceCap ?? DEFAULT_EVIDENCE_CAP;
  const maxIncidents = options.maxIncidents ?? 10_000;
  const incidents = new Map<string, Incident>();
  const stats = {
    events: 0,
    alertsRaised: 0,
    alertsUpdated: 0,
    alertsJoined: 0,
    detectorErrors: 0,
    sinkErrors: 0,
  };
  const claims = options.incidentClaims;

  function reportError(err: unknown, where: string): void {
    try {
      options.onError?.(err, where);
    } catch {
      // an error reporter that throws must not reach the audit path either
    }
  }

  function emit(alert: Alert, change: AlertChange): void {
    if (!options.onAlert) return;
    try {
      const r = options.onAlert(snapshot(alert), change);
      if (r instanceof Promise) {
        r.catch((err: unknown) => {
          stats.sinkErrors++;
          reportError(err, 'onAlert');
        });
      }
    } catch (err) {
      stats.sinkErrors++;
      reportError(err, 'onAlert');
    }
  }

  /** Asks the other replicas whether they raised this incident already, then publishes it as new or as an update of theirs. */
  function claim(key: string, inc: Incident, nowMs: number): void {
    const settle = (answer: IncidentClaim | null): void => {
      inc.claiming = false;
      inc.claimedAtMs = nowMs;
      if (answer !== null && answer.owner !== inc.alert.id) {
        inc.alert.id = answer.owner;
        stats.alertsJoined++;
        // Escalated when this replica is the first to see the incident at this severity (e.g. a
        // budget warning raised elsewhere, exhausted here): sinks get the escalation once.
        emit(inc.alert, answer.escalated || inc.escalated ? 'escalated' : 'updated');
        return;
      }
      stats.alertsRaised++;
      emit(inc.alert, 'new');
    };
    claims!
      .claim(key, inc.alert.id, inc.cooldownMs, severityRank(inc.alert.severity))
      .then(settle, (err: unknown) => {
        reportError(err, 'incidentClaims');
        settle(null);
      });
  }

  /** An escalation of a claimed incident: sent by the one replica whose claim raises the shared severity. */
  function escalate(key: string, inc: Incident, nowMs: number): void {
    inc.claimedAtMs = nowMs;
    claims!.claim(key, inc.alert.id, inc.cooldownMs, severityRank(inc.alert.severity)).then(
      (answer) => emit(inc.alert, answer === null || answer.escalated ? 'escalated' : 'updated'),
      (err: unknown) => {
        reportError(err, 'incidentClaims');
        emit(inc.alert, 'escalated');
      },
    );
  }

  /** The last firing's time, as `last_seen` (ISO-8601) and in ms. */
  let isoMs = Number.NaN;
  let iso = '';

  function raise(detector: Detector, c: AlertCandidate, event: AuditEvent | null, nowMs: number): void {
    const key = `${detector.id}\u0000${c.subject.kind}\u0000${c.subject.value}`;
    const severity = c.severity ?? detector.severity;
    // A busy gateway raises many firings in one millisecond (an open incident fires on every event).
    if (nowMs !== isoMs) {
      isoMs = nowMs;
      iso = new Date(nowMs).toISOString();
    }
    const found = incidents.get(key);
    if (found && nowMs - found.lastMs <= found.cooldownMs) {
      const a = found.alert;
      incidents.delete(key); // re-insert: most recently fired last
      incidents.set(key, found);
      found.lastMs = nowMs;
      a.count++;
      a.last_seen = iso;
      a.description = c.description;
      a.evidence.figures = c.figures;
      a.evidence.peak_observed = Math.max(a.evidence.peak_observed, c.figures.observed);
      const ids = a.evidence.event_ids;
      // Once the capped list is full and marked truncated, another event id changes nothing.
      const settled = a.evidence.evidence_truncated === true && ids.length >= evidenceCap;
      if (event !== null && !settled && !ids.includes(event.id)) {
        if (ids.length < evidenceCap) ids.push(event.id);
        else a.evidence.evidence_truncated = true;
      }
      let change: AlertChange = 'updated';
      if (severityRank(severity) > severityRank(a.severity)) {
        a.severity = severity;
        a.title = c.title;
        change = 'escalated';
      }
      stats.alertsUpdated++;
      if (found.claiming) {
        found.escalated ||= change === 'escalated';
        return; // published with the claim's answer
      }
      if (claims && change === 'escalated') return escalate(key, found, nowMs);
      if (claims && nowMs - found.claimedAtMs >= CLAIM_RENEW_MS) {
        found.claimedAtMs = nowMs;
        void claims.claim(key, a.id, found.cooldownMs, severityRank(a.severity)).catch(() => undefined);
      }
      emit(a, change);
      return;
    }
    if (found) incidents.delete(key);
    const alert = newAlert(
      {
        rule_id: detector.id,
        severity,
        subject: { ...c.subject },
        title: c.title,
        description: c.description,
        figures: c.figures,
        eventIds: event === null ? [] : [event.id],
      },
      nowMs,
    );
    const inc: Incident = {
      alert,
      lastMs: nowMs,
      cooldownMs: detector.cooldownMs ?? defaultCooldown,
      claiming: claims !== undefined,
      escalated: false,
      claimedAtMs: nowMs,
    };
    incidents.set(key, inc);
    if (incidents.size > maxIncidents) incidents.delete(incidents.keys().next().value!);
    if (claims) return claim(key, inc, nowMs);
    stats.alertsRaised++;
    emit(alert, 'new');
  }

  function raiseAll(d: Detector, r: DetectorResult, event: AuditEvent | null, nowMs: number): void {
    if (Array.isArray(r)) for (const c of r as readonly AlertCandidate[]) raise(d, c, event, nowMs);
    else raise(d, r as AlertCandidate, event, nowMs);
  }

  for (const d of detectors) {
    d.bindLateFiring?.((r, nowMs) => {
      if (r === null) return;
      try {
        raiseAll(d, r, null, nowMs);
      } catch (err) {
        stats.detectorErrors++;
        reportError(err, d.id);
      }
    });
  }

  function mark(event: AuditEvent, ruleId: string): void {
    event.is_anomalous = true;
    if (!event.threat_indicators.includes(ruleId)) event.threat_indicators.push(ruleId);
  }

  function sweepIncidents(nowMs: number): void {
    for (const [key, inc] of incidents) {
      if (nowMs - inc.lastMs > inc.cooldownMs) incidents.delete(key);
    }
  }

  return {
    observe(event: AuditEvent, hints?: DetectionHints): void {
      stats.events++;
      let nowMs: number;
      try {
        nowMs = clock.now();
      } catch (err) {
        reportError(err, 'clock');
        return;
      }
      const ctx: DetectionContext = { nowMs, hints: hints ?? NO_HINTS };
      for (const d of detectors) {
        try {
          const r = d.observe(event, ctx);
          if (r === null) continue;
          mark(event, d.id);
          raiseAll(d, r, event, nowMs);
        } catch (err) {
          stats.detectorErrors++;
          reportError(err, d.id);
        }
      }
    },

    sweep(): void {
      const nowMs = clock.now();
      sweepIncidents(nowMs);
      for (const d of detectors) {
        try {
          d.sweep(nowMs);
        } catch (err) {
          stats.detectorErrors++;
          reportError(err, d.id);
        }
      }
    },

    stats: () => ({ ...stats, openIncidents: incidents.size }),
  };
}
