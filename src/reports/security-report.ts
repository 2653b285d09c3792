import { isAuthFailure, isRequestFailure } from '../core/event-outcome.js';
import type { Alert, Severity } from '../alerting/alert.js';
import { SEVERITIES, severityRank } from '../alerting/alert.js';
import type { AlertStore } from '../alerting/alert-store.js';
import type { EventStore } from '../store/event-store.js';

/** `tollgate report security` as data: every figure over [sinceMs, untilMs). */
export interface SecurityReport {
  since: string;
  until: string;
  events: number;
  auth_failures: {
    total: number;
    by_key: { key: string; failures: number }[];
    by_ip: { ip: string; failures: number; distinct_keys: number }[];
  };
  alerts: {
    total: number;
    open: number;
    by_rule: { rule_id: string; alerts: number; events: number; max_severity: Severity }[];
    by_severity: Record<Severity, number>;
  };
  error_rates: {
    by_model: { model: string; requests: number; failed: number; rate: number }[];
    by_key: { key: string; requests: number; failed: number; rate: number }[];
  };
  redactions: { type: string; hits: number; events: number }[];
  top_offenders: {
    subject_kind: string;
    subject: string;
    alerts: number;
    events: number;
    max_severity: Severity;
    rules: string[];
  }[];
  anomalous_sessions: {
    session_id: string;
    user_id: string | null;
    events: number;
    anomalous_events: number;
    indicators: string[];
    max_input_tokens: number | null;
    cost_micro_usd: number;
  }[];
}

export interface SecurityReportInput {
  events: EventStore;
  alerts: AlertStore;
}

export interface SecurityReportOptions {
  sinceMs: number;
  untilMs: number;
  /** Rows per ranked list (default 10). */
  top?: number;
}

function bump<K>(m: Map<K, number>, k: K, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

/**
 * Computes the security report. The one place these figures are defined; a store may later
 * feed it SQL aggregates instead of rows, but the meaning stays here.
 */
export async function securityReport(
  input: SecurityReportInput,
  opts: SecurityReportOptions,
): Promise<SecurityReport> {
  const top = opts.top ?? 10;
  const events = await input.events.query({ sinceMs: opts.sinceMs, untilMs: opts.untilMs, order: 'asc' });
  const alerts: Alert[] = (await input.alerts.list({ sinceMs: opts.sinceMs, untilMs: opts.untilMs })).filter(
    (a) => Date.parse(a.first_seen) < opts.untilMs,
  );

  const failByKey = new Map<string, number>();
  const failByIp = new Map<string, number>();
  const keysByIp = new Map<string, Set<string>>();
  const errModel = new Map<string, [number, number]>();
  const errKey = new Map<string, [number, number]>();
  const redHits = new Map<string, number>();
  const redEvents = new Map<string, number>();
  const sessions = new Map<string, SecurityReport['anomalous_sessions'][number]>();
  let authTotal = 0;

  for (const e of events) {
    if (isAuthFailure(e)) {
      authTotal++;
      if (e.api_key_id !== null) bump(failByKey, e.api_key_id);
      if (e.ip_address !== null) {
        bump(failByIp, e.ip_address);
        if (e.api_key_id !== null) {
          let s = keysByIp.get(e.ip_address);
          if (!s) keysByIp.set(e.ip_address, (s = new Set()));
          s.add(e.api_key_id);
        }
      }
    } else if (e.status !== 'CANCELLED') {
      const failed = isRequestFailure(e) ? 1 : 0;
      const model = e.model_used ?? e.model_requested;
      if (model !== null) {
        const r = errModel.get(model) ?? [0, 0];
        errModel.set(model, [r[0] + 1, r[1] + failed]);
      }
      if (e.api_key_id !== null) {
        const r = errKey.get(e.api_key_id) ?? [0, 0];
        errKey.set(e.api_key_id, [r[0] + 1, r[1] + failed]);
      }
    }
    for (const r of e.redactions) {
      bump(redHits, r.type, r.count);
      bump(redEvents, r.type);
    }
    if (e.session_id !== null) {
      let s = sessions.get(e.session_id);
      if (!s) {
        s = {
          session_id: e.session_id,
          user_id: e.user_id,
          events: 0,
          anomalous_events: 0,
          indicators: [],
          max_input_tokens: null,
          cost_micro_usd: 0,
        };
        sessions.set(e.session_id, s);
      }
      s.events++;
      if (e.is_anomalous) s.anomalous_events++;
      for (const t of e.threat_indicators) if (!s.indicators.includes(t)) s.indicators.push(t);
      if (e.input_tokens !== null) s.max_input_tokens = Math.max(s.max_input_tokens ?? 0, e.input_tokens);
      s.cost_micro_usd += e.cost_micro_usd ?? 0;
    }
  }

  const ranked = <T>(rows: T[], by: (r: T) => number, tie: (r: T) => string): T[] =>
    rows.sort((a, b) => by(b) - by(a) || (tie(a) < tie(b) ? -1 : 1)).slice(0, top);
  const rates = (m: Map<string, [number, number]>) =>
    [...m].map(([k, [requests, failed]]) => ({
      k,
      requests,
      failed,
      rate: requests === 0 ? 0 : failed / requests,
    }));

  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const byRule = new Map<
    string,
    { rule_id: string; alerts: number; events: number; max_severity: Severity }
  >();
  const offenders = new Map<string, SecurityReport['top_offenders'][number]>();
  for (const a of alerts) {
    bySeverity[a.severity]++;
    const r = byRule.get(a.rule_id) ?? {
      rule_id: a.rule_id,
      alerts: 0,
      events: 0,
      max_severity: 'LOW' as Severity,
    };
    r.alerts++;
    r.events += a.count;
    if (severityRank(a.severity) > severityRank(r.max_severity)) r.max_severity = a.severity;
    byRule.set(a.rule_id, r);
    const key = `${a.subject.kind}\u0000${a.subject.value}`;
    const o = offenders.get(key) ?? {
      subject_kind: a.subject.kind,
      subject: a.subject.value,
      alerts: 0,
      events: 0,
      max_severity: 'LOW' as Severity,
      rules: [],
    };
    o.alerts++;
    o.events += a.count;
    if (severityRank(a.severity) > severityRank(o.max_severity)) o.max_severity = a.severity;
    if (!o.rules.includes(a.rule_id)) o.rules.push(a.rule_id);
    offenders.set(key, o);
  }

  return {
    since: new Date(opts.sinceMs).toISOString(),
    until: new Date(opts.untilMs).toISOString(),
    events: events.length,
    auth_failures: {
      total: authTotal,
      by_key: ranked(
        [...failByKey].map(([key, failures]) => ({ key, failures })),
        (r) => r.failures,
        (r) => r.key,
      ),
      by_ip: ranked(
        [...failByIp].map(([ip, failures]) => ({ ip, failures, distinct_keys: keysByIp.get(ip)?.size ?? 0 })),
        (r) => r.failures,
        (r) => r.ip,
      ),
    },
    alerts: {
      total: alerts.length,
      open: alerts.filter((a) => a.status === 'open').length,
      by_rule: [...byRule.values()].sort((a, b) => b.alerts - a.alerts || (a.rule_id < b.rule_id ? -1 : 1)),
      by_severity: bySeverity,
    },
    error_rates: {
      by_model: ranked(
        rates(errModel),
        (r) => r.rate,
        (r) => r.k,
      ).map(({ k, ...r }) => ({ model: k, ...r })),
      by_key: ranked(
        rates(errKey).filter((r) => r.failed > 0),
        (r) => r.rate,
        (r) => r.k,
      ).map(({ k, ...r }) => ({ key: k, ...r })),
    },
    redactions: [...redHits]
      .map(([type, hits]) => ({ type, hits, events: redEvents.get(type) ?? 0 }))
      .sort((a, b) => b.hits - a.hits || (a.type < b.type ? -1 : 1)),
    top_offenders: ranked(
      [...offenders.values()],
      (o) => severityRank(o.max_severity) * 1e9 + o.alerts * 1e6 + o.events,
      (o) => o.subject,
    ),
    anomalous_sessions: ranked(
      [...sessions.values()].filter((s) => s.anomalous_events > 0),
      (s) => s.anomalous_events,
      (s) => s.session_id,
    ),
  };
}

/** Pads columns to their widest cell; numbers right-aligned. */
function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  if (rows.length === 0) return '  (none)';
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.every((r) => typeof r[i] === 'number'));
  return cells
    .map((r) =>
      `  ${r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')}`.trimEnd(),
    )
    .join('\n');
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** The report for people: titled sections of aligned tables. */
export function formatSecurityReportTable(r: SecurityReport): string {
  const sev = SEVERITIES.map((s) => `${s} ${r.alerts.by_severity[s]}`).join(', ');
  return [
    `Security report ${r.since} → ${r.until} (${r.events} events)`,
    '',
    `Authentication failures: ${r.auth_failures.total}`,
    table(
      ['KEY', 'FAILURES'],
      r.auth_failures.by_key.map((x) => [x.key, x.failures]),
    ),
    '',
    table(
      ['IP', 'FAILURES', 'DISTINCT KEYS'],
      r.auth_failures.by_ip.map((x) => [x.ip, x.failures, x.distinct_keys]),
    ),
    '',
    `Alerts: ${r.alerts.total} (${r.alerts.open} open; ${sev})`,
    table(
      ['RULE', 'ALERTS', 'EVENTS', 'MAX SEVERITY'],
      r.alerts.by_rule.map((x) => [x.rule_id, x.alerts, x.events, x.max_severity]),
    ),
    '',
    'Error rates by model',
    table(
      ['MODEL', 'REQUESTS', 'FAILED', 'RATE'],
      r.error_rates.by_model.map((x) => [x.model, x.requests, x.failed, pct(x.rate)]),
    ),
    '',
    'Error rates by key',
    table(
      ['KEY', 'REQUESTS', 'FAILED', 'RATE'],
      r.error_rates.by_key.map((x) => [x.key, x.requests, x.failed, pct(x.rate)]),
    ),
    '',
    'Redaction hits by type',
    table(
      ['TYPE', 'HITS', 'EVENTS'],
      r.redactions.map((x) => [x.type, x.hits, x.events]),
    ),
    '',
    'Top offenders',
    table(
      ['SUBJECT', 'ALERTS', 'EVENTS', 'MAX SEVERITY', 'RULES'],
      r.top_offenders.map((x) => [
        `${x.subject_kind} ${x.subject}`,
        x.alerts,
        x.events,
        x.max_severity,
        x.rules.join(', '),
      ]),
    ),
    '',
    'Anomalous sessions',
    table(
      ['SESSION', 'USER', 'EVENTS', 'ANOMALOUS', 'MAX INPUT', 'COST USD', 'INDICATORS'],
      r.anomalous_sessions.map((x) => [
        x.session_id,
        x.user_id ?? '-',
        x.events,
        x.anomalous_events,
        x.max_input_tokens ?? 0,
        (x.cost_micro_usd / 1e6).toFixed(4),
        x.indicators.join(', '),
      ]),
    ),
  ].join('\n');
}

/** `--json`: one JSON document. */
export function formatSecurityReportJson(r: SecurityReport): string {
  return JSON.stringify(r, null, 2);
}
