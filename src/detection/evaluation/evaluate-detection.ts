import { blankEvent } from '../../core/audit-event.js';
import { ManualClock } from '../../core/clock.js';
import type { DetectionConfig } from '../default-detectors.js';
import { RULE_IDS, createDetectors } from '../default-detectors.js';
import { createDetectionEngine } from '../detection-engine.js';
import type { Incident, IncidentKind, SimRequest, Traffic } from './simulated-traffic.js';
import { EXPECTED_RULES } from './simulated-traffic.js';

export interface RuleResult {
  rule: string;
  /** Incidents this rule is meant to catch, and how many it caught. */
  expected: number;
  caught: number;
  /** Median and worst delay from incident start to the rule's first firing on it, simulated ms. */
  medianDelayMs: number | null;
  maxDelayMs: number | null;
  /** Alerts raised on incident traffic (including incidents of other kinds). */
  trueAlerts: number;
  /** Alerts raised after the warm-up none of whose firing events belonged to an incident. */
  falseAlerts: number;
  falsePer10k: number;
}

export interface EvaluationResult {
  requests: number;
  benignRequests: number;
  incidents: number;
  /** Incidents caught by at least one of their expected rules. */
  caught: number;
  missed: { id: number; kind: IncidentKind }[];
  medianDelayMs: number | null;
  falseAlerts: number;
  falsePer10k: number;
  /** False alerts raised during the warm-up days (not scored: most rules are silent by design then). */
  falseAlertsDuringWarmup: number;
  rules: RuleResult[];
  /** Per-subject state left after a final sweep, per detector. */
  stateAfterSweep: number;
  /** The first few false alerts, for tuning: rule, subject and title. */
  falseSamples: string[];
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Replays the traffic through every built-in detector on a simulated clock and scores the
 * alerts against the incident labels. Budgets of the traffic are added to `cost.budget`.
 */
export function evaluateDetection(traffic: Traffic, config: DetectionConfig = {}): EvaluationResult {
  const clock = new ManualClock(traffic.startMs);
  const budgetCfg = config['cost.budget'];
  const detectors = createDetectors({
    ...config,
    'cost.budget':
      budgetCfg === false
        ? false
        : { ...(budgetCfg ?? {}), budgets: [...(budgetCfg?.budgets ?? []), ...traffic.budgets] },
  });
  let current: SimRequest | null = null;
  const alerts = new Map<string, { rule: string; incidents: Set<number>; label: string; scored: boolean }>();
  const detected = new Map<string, number>(); // `${rule}/${incident}` → first firing ms
  const engine = createDetectionEngine({
    detectors,
    clock,
    onAlert: (alert) => {
      let info = alerts.get(alert.id);
      if (!info) {
        const label = `${new Date(clock.now()).toISOString()} ${alert.rule_id} ${alert.subject.kind}=${alert.subject.value}: ${alert.title}`;
        alerts.set(
          alert.id,
          (info = {
            rule: alert.rule_id,
            incidents: new Set(),
            label,
            scored: clock.now() >= traffic.scoreFromMs,
          }),
        );
      }
      const inc = current!.incident;
      if (inc >= 0) {
        info.incidents.add(inc);
        const k = `${alert.rule_id}/${inc}`;
        if (!detected.has(k)) detected.set(k, clock.now());
      }
    },
  });

  let nextSweep = traffic.startMs + 5 * 60_000;
  let benign = 0;
  for (let i = 0; i < traffic.requests.length; i++) {
    const r = traffic.requests[i]!;
    if (r.t >= nextSweep) {
      clock.set(nextSweep);
      engine.sweep();
      nextSweep += 5 * 60_000;
    }
    clock.set(r.t);
    if (r.incident < 0 && r.t >= traffic.scoreFromMs) benign++;
    const e = blankEvent({ id: `sim-${i}`, timestamp: new Date(r.t).toISOString(), source: 'gateway' });
    e.user_id = r.user;
    e.api_key_id = r.key;
    e.ip_address = r.ip;
    e.session_id = r.session;
    e.model_used = r.model;
    e.status = r.status;
    e.auth_result = r.auth;
    e.input_tokens = r.input;
    e.output_tokens = r.output;
    e.total_tokens = r.input + r.output;
    e.cost_micro_usd = r.cost;
    e.redactions = r.redactions;
    current = r;
    engine.observe(e, {
      redactionsByPart:
        r.part === 'prompt' ? { prompt: r.redactions, response: [] } : { prompt: [], response: r.redactions },
    });
  }
  clock.set(traffic.endMs + 60 * 24 * 3_600_000); // past every time-to-live
  let stateAfterSweep = 0;
  for (const d of detectors) stateAfterSweep += d.sweep(clock.now());

  const per10k = (n: number) => (benign === 0 ? 0 : (n / benign) * 10_000);
  const rules: RuleResult[] = RULE_IDS.map((rule) => {
    const targeted = traffic.incidents.filter((inc) => EXPECTED_RULES[inc.kind].includes(rule));
    const delays = targeted.flatMap((inc) => {
      const at = detected.get(`${rule}/${inc.id}`);
      return at === undefined ? [] : [at - inc.startMs];
    });
    const mine = [...alerts.values()].filter((a) => a.rule === rule);
    const falseAlerts = mine.filter((a) => a.incidents.size === 0 && a.scored).length;
    return {
      rule,
      expected: targeted.length,
      caught: delays.length,
      medianDelayMs: median(delays),
      maxDelayMs: delays.length ? Math.max(...delays) : null,
      trueAlerts: mine.filter((a) => a.incidents.size > 0).length,
      falseAlerts,
      falsePer10k: per10k(falseAlerts),
    };
  });
  const firstCatch = (inc: Incident): number | null => {
    const times = EXPECTED_RULES[inc.kind].flatMap((rule) => {
      const at = detected.get(`${rule}/${inc.id}`);
      return at === undefined ? [] : [at - inc.startMs];
    });
    return times.length ? Math.min(...times) : null;
  };
  const catches = traffic.incidents.map((inc) => ({ inc, delay: firstCatch(inc) }));
  const falseAlerts = rules.reduce((s, r) => s + r.falseAlerts, 0);
  return {
    requests: traffic.requests.length,
    benignRequests: benign,
    incidents: traffic.incidents.length,
    caught: catches.filter((c) => c.delay !== null).length,
    missed: catches.filter((c) => c.delay === null).map((c) => ({ id: c.inc.id, kind: c.inc.kind })),
    medianDelayMs: median(catches.flatMap((c) => (c.delay === null ? [] : [c.delay]))),
    falseAlerts,
    falsePer10k: per10k(falseAlerts),
    falseAlertsDuringWarmup: [...alerts.values()].filter((a) => a.incidents.size === 0 && !a.scored).length,
    rules,
    stateAfterSweep,
    falseSamples: [...alerts.values()].filter((a) => a.incidents.size === 0 && a.scored).map((a) => a.label),
  };
}

/** The evaluation as an aligned table (as printed by bench/detection-eval.ts and kept in docs/detection.md). */
export function formatEvaluation(r: EvaluationResult): string {
  const sec = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);
  const rows: string[][] = [
    [
      'rule',
      'incidents caught',
      'median delay',
      'max delay',
      'true alerts',
      'false alerts',
      'false / 10k benign',
    ],
    ...r.rules.map((x) => [
      x.rule,
      x.expected === 0 ? '—' : `${x.caught}/${x.expected}`,
      sec(x.medianDelayMs),
      sec(x.maxDelayMs),
      String(x.trueAlerts),
      String(x.falseAlerts),
      x.falsePer10k.toFixed(2),
    ]),
    [
      'all rules',
      `${r.caught}/${r.incidents}`,
      sec(r.medianDelayMs),
      '',
      '',
      String(r.falseAlerts),
      r.falsePer10k.toFixed(2),
    ],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const head =
    `${r.requests} requests, ${r.incidents} incidents; false alerts scored over ${r.benignRequests} benign requests after the warm-up ` +
    `(${r.falseAlertsDuringWarmup} more during the warm-up)`;
  return [head, '', line(rows[0]!), sep, ...rows.slice(1).map(line)].join('\n');
}
