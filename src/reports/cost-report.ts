/**
 * `tollgate report cost`: spend and tokens grouped by user, session, feature, model, key, team
 * or day, read from rollups (never from raw events), with formatters for people (aligned table)
 * and machines (JSON, CSV).
 *
 * Money stays integer micro-USD end to end; it becomes a decimal string only when printed, by
 * integer arithmetic (no float rounding on the way out either).
 */
import {
  encodeSessionCursor,
  isLeaking,
  LEAK_RULE,
  zeroTotals,
  type SessionCursor,
  type RollupDimension,
  type RollupReader,
  type RollupTotals,
  type SessionGrowth,
} from '../store/rollups.js';

export type CostReportBy = 'user' | 'session' | 'feature' | 'model' | 'key' | 'team' | 'day';

export const COST_REPORT_BY: readonly CostReportBy[] = [
  'user',
  'session',
  'feature',
  'model',
  'key',
  'team',
  'day',
];

export interface CostReportOptions {
  by: CostReportBy;
  /** Inclusive, epoch ms. */
  sinceMs: number;
  /** Exclusive, epoch ms. */
  untilMs: number;
  /** `by: 'session'`: session rows per page (default SESSION_ROWS_DEFAULT). */
  limit?: number;
  /** `by: 'session'`: the page after this cursor (a previous report's `sessions.next_cursor`). */
  after?: SessionCursor | null;
}

/**
 * Session rows in a report unless asked otherwise: a month of a busy gateway holds tens of
 * thousands of sessions, and the dearest ones are what a person reads (issue 22: all of them were
 * 11.9 MB of JSON and a second per dashboard view). The rest are pages after it.
 */
export const SESSION_ROWS_DEFAULT = 100;

/** Where a report's page of sessions lies in the window's ranking (`by: 'session'`). */
export interface SessionListing {
  /** Sessions with a request in the window, on every page. */
  total: number;
  /** Sessions ranked before this page. */
  offset: number;
  /** Session rows on this page (the `(none)` row aside). */
  shown: number;
  /** Sessions ranked after this page. */
  more: number;
  /** The page size asked for. */
  limit: number;
  /** `after` for the next page; null on the last one. */
  next_cursor: string | null;
}

/** Numbers shared by rows and totals. Tokens split into reported and estimated never mix. */
export interface CostFigures {
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  reasoning_tokens: number;
  reported_input_tokens: number;
  reported_output_tokens: number;
  estimated_input_tokens: number;
  estimated_output_tokens: number;
  estimated_requests: number;
  /** Sum over priced requests, integer micro-USD. */
  cost_micro_usd: number;
  /** Part of cost_micro_usd computed from estimated usage. */
  estimated_cost_micro_usd: number;
  /** Requests with no price: counted here, never added as $0. */
  unpriced_requests: number;
}

/** Input growth of one session across its consecutive requests (the silent token leak). */
export interface SessionGrowthFigures {
  first_input_tokens: number;
  last_input_tokens: number;
  max_input_tokens: number;
  /** last / first input tokens (null when first is 0). */
  growth_ratio: number | null;
  /** Average input-token growth per request, (last - first) / (requests - 1). */
  tokens_per_request: number;
  increases: number;
  current_streak: number;
  max_streak: number;
  /** Meets the leak rule (see LEAK_RULE). */
  leaking: boolean;
}

export interface CostReportRow extends CostFigures {
  /** The group's value; null where events had none (no user header, for instance). */
  key: string | null;
  /** This row's share of the window's priced cost, 0..1; null when the total cost is 0. */
  share: number | null;
  /** Only for `by: 'session'`. */
  growth?: SessionGrowthFigures;
}

export interface CostReport {
  by: CostReportBy;
  since: string;
  until: string;
  rows: CostReportRow[];
  totals: CostFigures;
  /** `by: 'session'` only: the leaking session with the steepest growth among the rows, or null. */
  worst_session: string | null;
  /**
   * `by: 'session'` only: rows are one page of the window's sessions ranked by cost (highest
   * first, ties by id), plus the `(none)` row on the first page; `totals` are the whole window's.
   */
  sessions?: SessionListing;
  /** Window resolution in ms (bounds are aligned outward to it), see docs/cost.md. */
  resolution_ms: number;
}

/** The leak rule (store/rollups.ts, where the growing-sessions index computes it too). */
export { LEAK_RULE };

const DIMENSION_OF: Record<Exclude<CostReportBy, 'session' | 'day'>, RollupDimension> = {
  user: 'user',
  feature: 'feature',
  model: 'model',
  key: 'key',
  team: 'team',
};

function figures(t: RollupTotals): CostFigures {
  return {
    requests: t.requests,
    errors: t.errors,
    input_tokens: t.input_tokens,
    output_tokens: t.output_tokens,
    cached_input_tokens: t.cached_input_tokens,
    reasoning_tokens: t.reasoning_tokens,
    reported_input_tokens: t.input_tokens - t.estimated_input_tokens,
    reported_output_tokens: t.output_tokens - t.estimated_output_tokens,
    estimated_input_tokens: t.estimated_input_tokens,
    estimated_output_tokens: t.estimated_output_tokens,
    estimated_requests: t.estimated_requests,
    cost_micro_usd: t.cost_micro_usd,
    estimated_cost_micro_usd: t.estimated_cost_micro_usd,
    unpriced_requests: t.unpriced_requests,
  };
}

function zero(): CostFigures {
  return figures(zeroTotals());
}

function addFigures(into: CostFigures, f: CostFigures): void {
  for (const k of Object.keys(into) as (keyof CostFigures)[]) into[k] += f[k];
}

function subtractFigures(from: CostFigures, f: CostFigures): void {
  for (const k of Object.keys(from) as (keyof CostFigures)[]) from[k] -= f[k];
}

function growthOf(s: SessionGrowth): SessionGrowthFigures {
  const n = s.growth_requests;
  const ratio = s.first_input_tokens > 0 ? s.last_input_tokens / s.first_input_tokens : null;
  const leaking = isLeaking(s);
  return {
    first_input_tokens: s.first_input_tokens,
    last_input_tokens: s.last_input_tokens,
    max_input_tokens: s.max_input_tokens,
    growth_ratio: ratio,
    tokens_per_request: n > 1 ? (s.last_input_tokens - s.first_input_tokens) / (n - 1) : 0,
    increases: s.increases,
    current_streak: s.current_streak,
    max_streak: s.max_streak,
    leaking,
  };
}

/**
 * Model rows kept in a report; the rest are one `other` row. The model is whatever a client sent
 * (cleaned and cut at 200 characters before it is stored), so a client that invents a model per
 * request must not turn a report into thousands of rows (issue 17). Teams use a few models; the
 * dearest ones keep their own row.
 */
export const MAX_MODEL_ROWS = 50;

function capModelRows(rows: CostReportRow[]): CostReportRow[] {
  if (rows.length <= MAX_MODEL_ROWS) return rows;
  const sorted = [...rows].sort((a, b) => b.cost_micro_usd - a.cost_micro_usd || b.requests - a.requests);
  const kept = sorted.slice(0, MAX_MODEL_ROWS - 1);
  const folded = zero();
  // addFigures adds the figures only (the keys of `folded`), so a row is passed as it is.
  for (const r of sorted.slice(MAX_MODEL_ROWS - 1)) addFigures(folded, r);
  return [...kept, { key: OTHER_MODELS, ...folded, share: null }];
}

/** The row that holds every model past {@link MAX_MODEL_ROWS}. */
export const OTHER_MODELS = 'other';

/** One session's report row (share filled in by the report). */
export function sessionRow(s: SessionGrowth): CostReportRow {
  return { key: s.session_id, ...figures(s), share: null, growth: growthOf(s) };
}

/** Builds the cost report for a window from rollups. */
export async function costReport(source: RollupReader, options: CostReportOptions): Promise<CostReport> {
  const { by, sinceMs, untilMs } = options;
  let rows: CostReportRow[];
  let resolution = 60_000;
  let sessions: SessionListing | undefined;
  let windowTotals: CostFigures | null = null;
  if (by === 'session') {
    resolution = 3_600_000;
    const limit = options.limit ?? SESSION_ROWS_DEFAULT;
    const after = options.after ?? null;
    const page = await source.sessionPage(sinceMs, untilMs, { limit, after });
    rows = page.sessions.map(sessionRow);
    const offset = after?.position ?? 0;
    const last = page.sessions[page.sessions.length - 1];
    const more = Math.max(0, page.total - offset - rows.length);
    sessions = {
      total: page.total,
      offset,
      shown: rows.length,
      more,
      limit,
      next_cursor:
        more > 0 && last
          ? encodeSessionCursor({
              cost_micro_usd: last.cost_micro_usd,
              session_id: last.session_id,
              position: offset + rows.length,
            })
          : null,
    };
    // Requests without a session (no x-tollgate-session) still cost money: they form the `(none)`
    // row (first page), so totals by session equal totals by any other grouping. Same
    // hour-aligned window; the totals are the window's, whatever the page.
    const from = Math.floor(sinceMs / resolution) * resolution;
    const to = Math.ceil(untilMs / resolution) * resolution;
    windowTotals = zero();
    for (const g of await source.groups('all', from, to)) addFigures(windowTotals, figures(g));
    const none = zero();
    addFigures(none, windowTotals);
    subtractFigures(none, figures(page.sum));
    if (after === null && none.requests > 0) rows.push({ key: null, ...none, share: null });
  } else if (by === 'day') {
    rows = (await source.days(sinceMs, untilMs)).map((g) => ({ key: g.key, ...figures(g), share: null }));
  } else {
    const dim = DIMENSION_OF[by];
    resolution = dim === 'user' || dim === 'key' ? 3_600_000 : 60_000;
    rows = (await source.groups(dim, sinceMs, untilMs)).map((g) => ({
      key: g.key === '' ? null : g.key,
      ...figures(g),
      share: null,
    }));
    if (dim === 'model') rows = capModelRows(rows);
  }
  let totals = windowTotals;
  if (!totals) {
    totals = zero();
    for (const r of rows) addFigures(totals, r);
  }
  for (const r of rows) r.share = totals.cost_micro_usd > 0 ? r.cost_micro_usd / totals.cost_micro_usd : null;
  let worst: CostReportRow | null = null;
  for (const r of rows) {
    if (r.growth?.leaking && (!worst || r.growth.tokens_per_request > worst.growth!.tokens_per_request))
      worst = r;
  }
  return {
    by,
    since: new Date(sinceMs).toISOString(),
    until: new Date(untilMs).toISOString(),
    rows,
    totals,
    worst_session: worst?.key ?? null,
    resolution_ms: resolution,
    ...(sessions ? { sessions } : {}),
  };
}

/** Integer micro-USD → `12.345678` (exact: integer arithmetic, six decimals). */
export function formatMicroUsd(micro: number): string {
  const sign = micro < 0 ? '-' : '';
  const abs = BigInt(Math.abs(micro));
  const whole = abs / 1_000_000n;
  const frac = (abs % 1_000_000n).toString().padStart(6, '0');
  return `${sign}${whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac}`;
}

function formatShare(share: number | null): string {
  return share === null ? '-' : `${(share * 100).toFixed(1)}%`;
}

function int(n: number): string {
  return n.toLocaleString('en-US');
}

/** The table people read: aligned columns, a totals line, the leak section for sessions. */
export function formatCostTable(report: CostReport): string {
  const sessions = report.by === 'session';
  const header = [
    report.by,
    'requests',
    'input',
    'output',
    'cached',
    'cost_usd',
    'share',
    'unpriced',
    'est_tokens',
    ...(sessions ? ['input_growth', 'ratio', 'streak', 'leak'] : []),
  ];
  const line = (key: string, f: CostFigures, share: string, g?: SessionGrowthFigures): string[] => [
    key,
    int(f.requests),
    int(f.input_tokens),
    int(f.output_tokens),
    int(f.cached_input_tokens),
    formatMicroUsd(f.cost_micro_usd),
    share,
    int(f.unpriced_requests),
    int(f.estimated_input_tokens + f.estimated_output_tokens),
    ...(sessions
      ? g
        ? [
            `${int(g.first_input_tokens)} -> ${int(g.last_input_tokens)}`,
            g.growth_ratio === null ? '-' : `x${g.growth_ratio.toFixed(1)}`,
            String(g.max_streak),
            g.leaking
              ? report.worst_session !== null && key === printableKey(report.worst_session)
                ? 'WORST'
                : 'yes'
              : '',
          ]
        : ['', '', '', '']
      : []),
  ];
  const body = report.rows.map((r) => line(printableKey(r.key), r, formatShare(r.share), r.growth));
  const total = line('TOTAL', report.totals, report.totals.cost_micro_usd > 0 ? '100.0%' : '-');
  const all = [header, ...body, total];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  // Text left-aligned, numbers right-aligned.
  const fmt = (row: string[]): string =>
    row
      .map((cell, i) =>
        i === 0 || (sessions && i === header.length - 1)
          ? cell.padEnd(widths[i]!)
          : cell.padStart(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  const out = [
    `cost by ${report.by}, ${report.since} .. ${report.until}`,
    fmt(header),
    ...body.map(fmt),
    widths.map((w) => '-'.repeat(w)).join('  '),
    fmt(total),
  ];
  if (report.totals.unpriced_requests > 0) {
    out.push(
      `${int(report.totals.unpriced_requests)} request(s) have no price (model not in the catalog): not counted as $0; see \`tollgate prices check\`.`,
    );
  }
  if (report.totals.estimated_requests > 0) {
    out.push(
      `${int(report.totals.estimated_requests)} request(s) had no usage from the provider; their tokens are estimated (est_tokens).`,
    );
  }
  const listing = report.sessions;
  if (listing && listing.shown > 0 && (listing.more > 0 || listing.offset > 0)) {
    out.push(
      `sessions ${int(listing.offset + 1)}-${int(listing.offset + listing.shown)} of ${int(listing.total)} by cost; TOTAL is the whole window's.`,
    );
  }
  if (listing && listing.more > 0)
    out.push(`${int(listing.more)} more sessions: next page with --after ${listing.next_cursor}`);
  if (sessions && report.worst_session !== null) {
    const w = report.rows.find((r) => r.key === report.worst_session)!.growth!;
    out.push(
      `token leak: session ${printableKey(report.worst_session)} grew from ${int(w.first_input_tokens)} to ${int(w.last_input_tokens)} input tokens per request (${w.max_streak} increases in a row).`,
    );
  }
  return out.join('\n');
}

/** One JSON document (DESIGN.md: reports print one document with --json). */
export function formatCostJson(report: CostReport): string {
  return JSON.stringify(report, null, 2);
}

const CSV_COLUMNS = [
  'requests',
  'errors',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'reasoning_tokens',
  'reported_input_tokens',
  'reported_output_tokens',
  'estimated_input_tokens',
  'estimated_output_tokens',
  'estimated_requests',
  'cost_micro_usd',
  'estimated_cost_micro_usd',
  'unpriced_requests',
] as const satisfies readonly (keyof CostFigures)[];

/**
 * RFC 4180 quoting, and a leading `'` on text that a spreadsheet would run as a formula
 * (OWASP "CSV Injection"): keys come from request headers, which callers control.
 */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** CSV for spreadsheets: one header line, one line per group, a TOTAL line; cost also as exact USD. */
export function formatCostCsv(report: CostReport): string {
  const growthCols =
    report.by === 'session' ? ['first_input_tokens', 'last_input_tokens', 'max_streak', 'leaking'] : [];
  const header = [report.by, ...CSV_COLUMNS, 'cost_usd', 'share', ...growthCols];
  const line = (key: string, f: CostFigures, share: number | null, g?: SessionGrowthFigures): string =>
    [
      csvCell(key),
      ...CSV_COLUMNS.map((c) => String(f[c])),
      formatMicroUsd(f.cost_micro_usd).replace(/,/g, ''),
      share === null ? '' : share.toFixed(6),
      ...(growthCols.length
        ? g
          ? [g.first_input_tokens, g.last_input_tokens, g.max_streak, g.leaking].map(String)
          : ['', '', '', '']
        : []),
    ].join(',');
  return [
    header.join(','),
    ...report.rows.map((r) => line(r.key ?? '', r, r.share, r.growth)),
    line('TOTAL', report.totals, report.totals.cost_micro_usd > 0 ? 1 : null),
  ].join('\r\n');
}

function printableKey(key: string | null): string {
  if (key === null) return '(none)';
  // Keys come from request headers: never let one move the cursor or forge table lines.
  return key.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
