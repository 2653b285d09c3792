import type { Alert, Severity } from '../alerting/alert.js';
import { SEVERITIES, severityRank } from '../alerting/alert.js';
import type { AlertStore } from '../alerting/alert-store.js';
import { DAY_MS, HOUR_MS, type RollupReader } from '../store/rollups.js';
import { formatShare, type ProviderQuotaSummary } from './provider-quota.js';

/**
 * `tollgate report security` as data: every figure over [since, until), the requested window
 * aligned outward to whole hours (`resolution_ms`), read from rollups kept at write time
 * (security_rollups, session_rollups) and the alerts table — never from all the raw events, so it
 * answers in the same time over a day or a month, and keeps its totals after events are pruned.
 * The provider quota alone reads events: the newest 20,000 of the window (provider-quota.ts).
 */
export interface SecurityReport {
  since: string;
  until: string;
  /** Window resolution in ms: the requested bounds are aligned outward to it. */
  resolution_ms: number;
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
    /** The user with the most anomalous events of the session (null when none had a user). */
    user_id: string | null;
    /** The session's requests in the window. */
    events: number;
    anomalous_events: number;
    /** Threat indicators seen on any of the session's events in the window, sorted. */
    indicators: string[];
    max_input_tokens: number | null;
    cost_micro_usd: number;
  }[];
  /**
   * The provider's quota per provider key fingerprint and kind (requests, tokens), from the
   * readings stored in the events (kept per bucket at write time): latest remaining / limit and
   * reset, lowest share in the window.
   */
  provider_quota: ProviderQuotaSummary;
}

export interface SecurityReportInput {
  rollups: RollupReader;
  alerts: AlertStore;
}

export interface SecurityReportOptions {
  sinceMs: number;
  untilMs: number;
  /** Rows per ranked list (default 10). */
  top?: number;
}

/** The report's window: [sinceMs, untilMs) aligned outward to whole hours. */
export function securityReportWindow(sinceMs: number, untilMs: number): { fromMs: number; toMs: number } {
  return {
    fromMs: Math.floor(sinceMs / HOUR_MS) * HOUR_MS,
    toMs: Math.max(Math.ceil(untilMs / HOUR_MS) * HOUR_MS, Math.floor(sinceMs / HOUR_MS) * HOUR_MS),
  };
}

/** Sorts by `by` descending, then `tie` ascending, and keeps the first `top`. */
export function ranked<T>(rows: T[], top: number, by: (r: T) => number, tie: (r: T) => string): T[] {
  return rows.sort((a, b) => by(b) - by(a) || (tie(a) < tie(b) ? -1 : tie(a) > tie(b) ? 1 : 0)).slice(0, top);
}

/** Alerts by rule, by severity and top offenders (the alerts table is small: read as rows). */
export function alertFigures(
  alerts: readonly Alert[],
  top: number,
): Pick<SecurityReport, 'alerts' | 'top_offenders'> {
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
    alerts: {
      total: alerts.length,
      open: alerts.filter((a) => a.status === 'open').length,
      by_rule: [...byRule.values()].sort((a, b) => b.alerts - a.alerts || (a.rule_id < b.rule_id ? -1 : 1)),
      by_severity: bySeverity,
    },
    top_offenders: ranked(
      [...offenders.values()],
      top,
      (o) => severityRank(o.max_severity) * 1e9 + o.alerts * 1e6 + o.events,
      (o) => o.subject,
    ),
  };
}

const rate = (requests: number, failed: number): number => (requests === 0 ? 0 : failed / requests);

/**
 * Computes the security report from rollups. The meaning of each figure is defined here and in
 * security-rollups.ts (what is counted per event); the contract tests compare it with a count
 * over the raw events of the same window.
 */
export async function securityReport(
  input: SecurityReportInput,
  opts: SecurityReportOptions,
): Promise<SecurityReport> {
  const top = opts.top ?? 10;
  const { fromMs, toMs } = securityReportWindow(opts.sinceMs, opts.untilMs);
  const [auth, redactions, counts, alertRows, quota] = await Promise.all([
    input.rollups.authFailures(fromMs, toMs, DAY_MS),
    input.rollups.redactionHits(fromMs, toMs),
    input.rollups.reportCounts(fromMs, toMs),
    input.alerts.list({ sinceMs: fromMs, untilMs: toMs }),
    input.rollups.providerQuota(fromMs, toMs, top),
  ]);
  const alerts = alertRows.filter((a) => Date.parse(a.first_seen) < toMs);

  let authTotal = 0;
  const failByKey = new Map<string, number>();
  const failByIp = new Map<string, { failures: number; keys: Set<string> }>();
  for (const p of auth.pairs) {
    authTotal += p.failures;
    if (p.key_id !== null) failByKey.set(p.key_id, (failByKey.get(p.key_id) ?? 0) + p.failures);
    if (p.ip !== null) {
      let ip = failByIp.get(p.ip);
      if (!ip) failByIp.set(p.ip, (ip = { failures: 0, keys: new Set() }));
      ip.failures += p.failures;
      if (p.key_id !== null) ip.keys.add(p.key_id);
    }
  }

  const anomalous = ranked(
    counts.anomalous_sessions,
    top,
    (s) => s.anomalous_events,
    (s) => s.session_id,
  );
  const ids = anomalous.map((s) => s.session_id);
  const [figures, indicators] = await Promise.all([
    ids.length === 0 ? [] : input.rollups.sessionsById(ids, fromMs, toMs),
    ids.length === 0 ? new Map<string, string[]>() : input.rollups.sessionIndicators(ids, fromMs, toMs),
  ]);
  const figuresOf = new Map(figures.map((f) => [f.session_id, f]));

  return {
    since: new Date(fromMs).toISOString(),
    until: new Date(toMs).toISOString(),
    resolution_ms: HOUR_MS,
    events: counts.events,
    auth_failures: {
      total: authTotal,
      by_key: ranked(
        [...failByKey].map(([key, failures]) => ({ key, failures })),
        top,
        (r) => r.failures,
        (r) => r.key,
      ),
      by_ip: ranked(
        [...failByIp].map(([ip, r]) => ({ ip, failures: r.failures, distinct_keys: r.keys.size })),
        top,
        (r) => r.failures,
        (r) => r.ip,
      ),
    },
    ...alertFigures(alerts, top),
    error_rates: {
      by_model: ranked(
        counts.errors_by_model.map((r) => ({
          model: r.key,
          requests: r.requests,
          failed: r.failed,
          rate: rate(r.requests, r.failed),
        })),
        top,
        (r) => r.rate,
        (r) => r.model,
      ),
      by_key: ranked(
        counts.errors_by_key
          .filter((r) => r.failed > 0)
          .map((r) => ({
            key: r.key,
            requests: r.requests,
            failed: r.failed,
            rate: rate(r.requests, r.failed),
          })),
        top,
        (r) => r.rate,
        (r) => r.key,
      ),
    },
    redactions: redactions
      .map((r) => ({ type: r.type, hits: r.hits, events: r.events }))
      .sort((a, b) => b.hits - a.hits || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)),
    anomalous_sessions: anomalous.map((s) => {
      const f = figuresOf.get(s.session_id);
      return {
        session_id: s.session_id,
        user_id: s.user_id,
        events: f?.requests ?? 0,
        anomalous_events: s.anomalous_events,
        indicators: indicators.get(s.session_id) ?? [],
        max_input_tokens: f && f.growth_requests > 0 ? f.max_input_tokens : null,
        cost_micro_usd: f?.cost_micro_usd ?? 0,
      };
    }),
    provider_quota: quota,
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
    '',
    ...providerQuotaLines(r.provider_quota),
  ].join('\n');
}

function providerQuotaLines(q: ProviderQuotaSummary): string[] {
  return [
    `Provider quota by provider key (latest reading; lowest share left in the window)`,
    table(
      [
        'PROVIDER KEY',
        'PROVIDER',
        'KIND',
        'REMAINING',
        'LIMIT',
        'LEFT',
        'RESETS',
        'LOWEST',
        'LOWEST AT',
        'READINGS',
      ],
      q.rows.map((x) => [
        x.key,
        x.provider ?? '-',
        x.kind,
        x.remaining,
        x.limit ?? '-',
        formatShare(x.share),
        x.reset ?? '-',
        formatShare(x.lowest_share),
        x.lowest_at ?? '-',
        x.readings,
      ]),
    ),
  ];
}

/** `--json`: one JSON document. */
export function formatSecurityReportJson(r: SecurityReport): string {
  return JSON.stringify(r, null, 2);
}
