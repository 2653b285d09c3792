/**
 * The contract every rollup store passes (SQLite, PostgreSQL): events go in through the event
 * store's append, whose transaction feeds the rollups, and come out through `RollupReader`.
 * Expected numbers are computed naively from the events themselves.
 */
import { isAuthFailure, isError, isRequestFailure } from '../../src/core/event-outcome.js';
import { MemoryAlertStore } from '../../src/alerting/memory-alert-store.js';
import { ranked, securityReport, securityReportWindow } from '../../src/reports/security-report.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { testEvent } from '../support/test-event.js';
import type { ProviderQuotaRow, ProviderQuotaSummary } from '../../src/store/provider-quota-rollups.js';
import {
  DAY_MS,
  HOUR_MS,
  LEAK_RULE,
  MINUTE_MS,
  ROLLUP_DIMENSIONS,
  zeroTotals,
  type RollupDimension,
  type RollupReader,
  type RollupTotals,
  type SessionCursor,
} from '../../src/store/rollups.js';

/** A store whose appends feed its rollups in the same transaction. */
export interface RollupStore {
  append(events: readonly AuditEvent[]): Promise<void>;
  rollups: RollupReader;
  /** Rebuilds the session summaries from the hour segments (the rebuild path). */
  rebuildSessionTotals(): Promise<void>;
  /** Rebuilds the security rollups from the stored events (the rebuild path). */
  rebuildSecurity(): Promise<void>;
  close(): Promise<void>;
}

export type RollupStoreFactory = () => Promise<RollupStore>;

const T0 = Date.UTC(2026, 0, 5, 22, 17, 31);
const ALL = [0, Date.UTC(2100, 0, 1)] as const;

/** Deterministic pseudo-random numbers (tests must be reproducible). */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

function event(i: number, ts: number, fields: Partial<AuditEvent> = {}): AuditEvent {
  return testEvent(
    { timestamp: new Date(ts).toISOString(), status: 'SUCCESS', usage_source: 'reported', ...fields },
    i,
  );
}

/** Events over ~2 days with every kind of usage: reported, estimated, none; priced and unpriced. */
export function mixedEvents(n: number, seed: number, fromMs = T0): AuditEvent[] {
  const r = rng(seed);
  const out: AuditEvent[] = [];
  let ts = fromMs;
  for (let i = 0; i < n; i++) {
    ts += Math.floor(r() * 90_000);
    const e = event(seed * 1_000_000 + i, ts, {
      model_used: ['gpt-4.1', 'gpt-4o-mini', 'no-price-model', null][Math.floor(r() * 4)]!,
      model_requested: 'gpt-4.1',
      user_id: r() < 0.1 ? null : `u${Math.floor(r() * 7)}`,
      session_id: r() < 0.1 ? null : `s${Math.floor(r() * 5)}`,
      feature_name: r() < 0.2 ? null : `f${Math.floor(r() * 3)}`,
      team: `t${Math.floor(r() * 2)}`,
      api_key_id: `k${Math.floor(r() * 4)}`,
      virtual_key_id: r() < 0.3 ? `vk${Math.floor(r() * 2)}` : null,
    });
    const kind = r();
    if (kind < 0.1) {
      e.status = 'SERVER_ERROR';
      e.usage_source = 'none';
    } else {
      e.usage_source = kind < 0.3 ? 'estimated' : 'reported';
      if (kind < 0.2) e.status = 'CANCELLED';
      e.input_tokens = Math.floor(r() * 50_000);
      e.cached_input_tokens = e.usage_source === 'reported' ? Math.floor(r() * e.input_tokens) : null;
      e.output_tokens = Math.floor(r() * 4000);
      e.reasoning_tokens = r() < 0.3 ? Math.floor(r() * e.output_tokens) : null;
    }
    e.cost_micro_usd = e.model_used === 'no-price-model' ? null : Math.floor(r() * 90_000);
    out.push(e);
  }
  return out;
}

export function expectedTotals(events: readonly AuditEvent[]): RollupTotals {
  const t = zeroTotals();
  for (const e of events) {
    const est = e.usage_source === 'estimated';
    t.requests++;
    // One definition of an error (core/event-outcome.ts, issue 19): CANCELLED is not one.
    if (isError(e)) t.errors++;
    t.input_tokens += e.input_tokens ?? 0;
    t.output_tokens += e.output_tokens ?? 0;
    t.cached_input_tokens += e.cached_input_tokens ?? 0;
    t.reasoning_tokens += e.reasoning_tokens ?? 0;
    if (est) {
      t.estimated_requests++;
      t.estimated_input_tokens += e.input_tokens ?? 0;
      t.estimated_output_tokens += e.output_tokens ?? 0;
      t.estimated_cost_micro_usd += e.cost_micro_usd ?? 0;
    }
    if (e.cost_micro_usd === null) t.unpriced_requests++;
    else t.cost_micro_usd += e.cost_micro_usd;
  }
  return t;
}

export function keyOf(dim: RollupDimension, e: AuditEvent): string {
  switch (dim) {
    case 'all':
      return '';
    case 'key':
      return e.virtual_key_id ?? e.api_key_id ?? '';
    case 'user':
      return e.user_id ?? '';
    case 'feature':
      return e.feature_name ?? '';
    case 'model':
      return e.model_used ?? e.model_requested ?? '';
    case 'team':
      return e.team ?? '';
  }
}

/** Appends in batches of 1–40 events (sizes drawn from `seed`), in order. */
export async function appendInBatches(
  store: Pick<RollupStore, 'append'>,
  events: readonly AuditEvent[],
  seed: number,
): Promise<void> {
  const r = rng(seed);
  for (let i = 0; i < events.length;) {
    const size = 1 + Math.floor(r() * 40);
    await store.append(events.slice(i, i + size));
    i += size;
  }
}

/** Every dimension's groups and the days equal the naive sums over `events`. */
export async function expectRollupsOf(rollups: RollupReader, events: readonly AuditEvent[]): Promise<void> {
  for (const dim of ROLLUP_DIMENSIONS) {
    const groups = await rollups.groups(dim, ...ALL);
    expect(groups.map((g) => g.key).sort(), dim).toEqual(
      [...new Set(events.map((e) => keyOf(dim, e)))].sort(),
    );
    for (const { key, ...totals } of groups) {
      expect(totals, `${dim}=${key}`).toEqual(expectedTotals(events.filter((e) => keyOf(dim, e) === key)));
    }
    // Biggest cost first, ties by key.
    const order = [...groups].sort(
      (a, b) => b.cost_micro_usd - a.cost_micro_usd || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
    expect(groups.map((g) => g.key)).toEqual(order.map((g) => g.key));
  }
  const days = await rollups.days(...ALL);
  expect(days.map((d) => d.key)).toEqual([...new Set(events.map((e) => e.timestamp.slice(0, 10)))].sort());
  for (const { key, ...totals } of days)
    expect(totals, key).toEqual(expectedTotals(events.filter((e) => e.timestamp.startsWith(key))));
}

/** Growth numbers computed naively over one session's requests in order. */
export function growthReference(inputs: (number | null)[]) {
  const xs = inputs.filter((x): x is number => x !== null);
  let increases = 0;
  let streak = 0;
  let maxStreak = 0;
  for (let i = 1; i < xs.length; i++) {
    if (xs[i]! > xs[i - 1]!) {
      increases++;
      streak++;
      maxStreak = Math.max(maxStreak, streak);
    } else streak = 0;
  }
  return {
    growth_requests: xs.length,
    first_input_tokens: xs[0] ?? 0,
    last_input_tokens: xs[xs.length - 1] ?? 0,
    max_input_tokens: xs.length ? Math.max(...xs) : 0,
    increases,
    current_streak: streak,
    max_streak: maxStreak,
  };
}

/**
 * The sessions of an hour-aligned window as a full scan of the events: non-administrative events
 * with a session stamped in [from, to), in hour order and write order within an hour (the order
 * session growth is defined on), totals and growth counted naively.
 */
export function expectedSessions(events: readonly AuditEvent[], sinceMs: number, untilMs: number) {
  const from = Math.floor(sinceMs / HOUR_MS) * HOUR_MS;
  const to = Math.ceil(untilMs / HOUR_MS) * HOUR_MS;
  const hourOf = (e: AuditEvent): number => Math.floor(Date.parse(e.timestamp) / HOUR_MS);
  const inWindow = events
    .map((e, i) => ({ e, i }))
    .filter(({ e }) => {
      const ts = Date.parse(e.timestamp);
      return e.session_id !== null && e.http_method !== 'ADMIN' && ts >= from && ts < to;
    })
    .sort((a, b) => hourOf(a.e) - hourOf(b.e) || a.i - b.i)
    .map(({ e }) => e);
  const bySession = new Map<string, AuditEvent[]>();
  for (const e of inWindow) bySession.set(e.session_id!, [...(bySession.get(e.session_id!) ?? []), e]);
  return [...bySession]
    .map(([session_id, evs]) => ({
      session_id,
      first_ts_ms: Math.min(...evs.map((e) => Date.parse(e.timestamp))),
      last_ts_ms: Math.max(...evs.map((e) => Date.parse(e.timestamp))),
      ...expectedTotals(evs),
      ...growthReference(evs.map((e) => e.input_tokens)),
    }))
    .sort((a, b) => (a.session_id < b.session_id ? -1 : 1));
}

/** Every window's sessions equal the full scan (extra fields of the rows, such as lead_streak, aside). */
export async function expectSessionsOf(
  rollups: RollupReader,
  events: readonly AuditEvent[],
  windows: readonly (readonly [number, number])[],
): Promise<void> {
  for (const [since, until] of windows) {
    const got = (await rollups.sessions(since, until)).sort((a, b) => (a.session_id < b.session_id ? -1 : 1));
    const want = expectedSessions(events, since, until);
    expect(
      got.map((g) => g.session_id),
      `${since}..${until}`,
    ).toEqual(want.map((w) => w.session_id));
    got.forEach((g, i) => expect(g, `${g.session_id} ${since}..${until}`).toMatchObject(want[i]!));
  }
}

/**
 * The growing sessions of a window as a full scan: every session whose life (first to last
 * request, whole hours) overlaps the hour-aligned window, its figures over its whole life, ranked
 * leaking first (LEAK_RULE) then by last / first input, at least 1.5, ties by id, at most `limit`.
 */
export function expectedGrowing(
  events: readonly AuditEvent[],
  sinceMs: number,
  untilMs: number,
  limit: number,
) {
  const from = Math.floor(sinceMs / HOUR_MS) * HOUR_MS;
  const to = Math.ceil(untilMs / HOUR_MS) * HOUR_MS;
  const rank = (s: ReturnType<typeof expectedSessions>[number]): number =>
    (s.growth_requests >= LEAK_RULE.minRequests &&
    s.max_streak >= LEAK_RULE.minStreak &&
    s.last_input_tokens >= LEAK_RULE.minRatio * Math.max(1, s.first_input_tokens)
      ? 1e9
      : 0) + (s.first_input_tokens > 0 ? s.last_input_tokens / s.first_input_tokens : 0);
  return expectedSessions(events, ...ALL)
    .filter((s) => s.last_ts_ms >= from && s.first_ts_ms < to && rank(s) >= 1.5)
    .sort((a, b) => rank(b) - rank(a) || (a.session_id < b.session_id ? -1 : 1))
    .slice(0, limit);
}

/** Every window's growing sessions equal the full scan, in order. */
export async function expectGrowingOf(
  rollups: RollupReader,
  events: readonly AuditEvent[],
  windows: readonly (readonly [number, number])[],
  limit: number,
): Promise<void> {
  for (const [since, until] of windows) {
    const got = (await rollups.growingSessions(since, until, limit)).sessions;
    const want = expectedGrowing(events, since, until, limit);
    expect(
      got.map((g) => g.session_id),
      `${since}..${until}`,
    ).toEqual(want.map((w) => w.session_id));
    got.forEach((g, i) => expect(g, `${g.session_id} ${since}..${until}`).toMatchObject(want[i]!));
  }
}

/**
 * Every page of every window's sessions ranked by cost (cursor after cursor) equals the full
 * scan ranked (cost descending, ties by id) and cut; every page has the window's session count
 * and the sums over all of its sessions.
 */
export async function expectSessionPagesOf(
  rollups: RollupReader,
  events: readonly AuditEvent[],
  windows: readonly (readonly [number, number])[],
  limit: number,
): Promise<void> {
  for (const [since, until] of windows) {
    const want = expectedSessions(events, since, until).sort(
      (a, b) => b.cost_micro_usd - a.cost_micro_usd || (a.session_id < b.session_id ? -1 : 1),
    );
    const sum = zeroTotals();
    for (const w of want) for (const c of Object.keys(sum) as (keyof RollupTotals)[]) sum[c] += w[c];
    const label = `${since}..${until} limit ${limit}`;
    expect(await rollups.sessionPage(since, until, { limit: 0, after: null }), label).toEqual({
      sessions: [],
      total: want.length,
      sum,
    });
    let after: SessionCursor | null = null;
    let position = 0;
    for (;;) {
      const page = await rollups.sessionPage(since, until, { limit, after });
      expect(page.total, label).toBe(want.length);
      expect(page.sum, label).toEqual(sum);
      const slice = want.slice(position, position + limit);
      expect(
        page.sessions.map((s) => s.session_id),
        `${label} at ${position}`,
      ).toEqual(slice.map((w) => w.session_id));
      page.sessions.forEach((g, i) => expect(g, `${g.session_id} ${label}`).toMatchObject(slice[i]!));
      if (page.sessions.length < limit) break;
      position += page.sessions.length;
      const last = page.sessions[page.sessions.length - 1]!;
      after = { cost_micro_usd: last.cost_micro_usd, session_id: last.session_id, position };
    }
    expect(position + limit, label).toBeGreaterThan(want.length - 1);
  }
}

/**
 * ~6 days of events over 40 sessions (and some without one), five of them costing nothing
 * (ties on cost, ranked by id): windows cut sessions, whole days come from day summaries.
 */
export function pagedSessionEvents(n: number, seed: number): AuditEvent[] {
  const r = rng(seed * 11 + 3);
  return mixedEvents(n, seed).map((e) => {
    const ts = Date.parse(e.timestamp);
    e.timestamp = new Date(T0 + (ts - T0) * 8).toISOString();
    const x = r();
    if (e.session_id !== null) e.session_id = x < 0.12 ? `z${Math.floor(x * 40)}` : `p${Math.floor(x * 35)}`;
    if (e.session_id?.startsWith('z')) e.cost_micro_usd = 0;
    return e;
  });
}

/** Events of many sessions, a third of them with input growing request after request (leaks). */
export function growingEvents(n: number, seed: number): AuditEvent[] {
  return mixedEvents(n, seed).map((e, i) => {
    const session = i % 29;
    e.session_id = `g${session}`;
    if (session % 3 === 0 && e.input_tokens !== null) e.input_tokens = 100 + i * (1 + (session % 5));
    return e;
  });
}

/** Random windows over [fromMs, toMs), plus the whole range and unaligned edges. */
export function randomWindows(fromMs: number, toMs: number, n: number, seed: number): [number, number][] {
  const r = rng(seed);
  const out: [number, number][] = [
    [0, Date.UTC(2100, 0, 1)],
    [fromMs, toMs],
  ];
  for (let i = 0; i < n; i++) {
    const a = fromMs + Math.floor(r() * (toMs - fromMs));
    const b = a + 1 + Math.floor(r() * (toMs - a));
    out.push([a, b]);
  }
  return out;
}

/** mixedEvents with auth failures (every status and credential result, nulls) and redactions. */
export function securityEvents(n: number, seed: number): AuditEvent[] {
  const r = rng(seed * 7 + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  return mixedEvents(n, seed).map((e) => {
    const x = r();
    if (x < 0.15) {
      e.status = pick(['AUTH_FAILED', 'BLOCKED', 'SUCCESS', 'CLIENT_ERROR'] as const);
      e.auth_result = pick(['FAILED', 'MISSING', 'REVOKED', 'EXPIRED', null] as const);
    } else e.auth_result = x < 0.2 ? null : 'SUCCESS';
    e.ip_address = r() < 0.1 ? null : `10.0.0.${Math.floor(r() * 4)}`;
    if (r() < 0.1) e.api_key_id = null;
    e.api_key_prefix = r() < 0.2 ? null : pick(['sk-proj-', 'sk-ant-']);
    if (r() < 0.05) e.http_method = 'ADMIN';
    if (r() < 0.2)
      e.redactions = Array.from({ length: 1 + Math.floor(r() * 2) }, () => ({
        type: pick(['email', 'phone', 'aws_access_key']),
        count: 1 + Math.floor(r() * 3),
      }));
    // Detection marks: anomalous events (some without a user) and indicators, repeated at times.
    e.is_anomalous = r() < 0.15;
    if (e.is_anomalous && r() < 0.2) e.user_id = null;
    if (r() < 0.2)
      e.threat_indicators = Array.from({ length: 1 + Math.floor(r() * 2) }, () =>
        pick(['session.context-growth', 'prompt-injection.ignore-previous', 'content.secret-in-prompt']),
      );
    // The provider's quota readings (issue 20): some events, some keys, limits missing or 0 at times.
    if (r() < 0.4) {
      e.api_provider = pick(['openai', 'anthropic']);
      e.provider_key_id = pick(['pk-a', 'pk-b', null]);
      e.provider_requests_remaining = Math.floor(r() * 50);
      e.provider_requests_limit = pick([50, 50, 0, null]);
      e.provider_requests_reset = `${Math.floor(r() * 60)}s`;
      if (r() < 0.5) {
        e.provider_tokens_remaining = Math.floor(r() * 90_000);
        e.provider_tokens_limit = pick([90_000, null]);
        e.provider_tokens_reset = r() < 0.3 ? null : '1m';
      }
    }
    return e;
  });
}

/**
 * The provider quota of [fromMs, toMs) as a full scan of the events in write order: the latest
 * reading per provider key and kind (a later write wins a tie), the lowest share and when it was
 * first reached, the readings; the closest to exhaustion first.
 */
export function expectedProviderQuota(
  events: readonly AuditEvent[],
  fromMs: number,
  toMs: number,
  top: number,
): ProviderQuotaSummary {
  const rows = new Map<string, ProviderQuotaRow>();
  for (const e of events) {
    const ts = Date.parse(e.timestamp);
    if (ts < fromMs || ts >= toMs) continue;
    for (const kind of ['requests', 'tokens'] as const) {
      const remaining = e[`provider_${kind}_remaining`];
      if (remaining === null) continue;
      const limit = e[`provider_${kind}_limit`];
      const share = limit !== null && limit > 0 ? remaining / limit : null;
      const key = e.provider_key_id ?? e.api_key_id ?? '(unknown)';
      const id = `${key} ${kind}`;
      const at = new Date(ts).toISOString();
      let r = rows.get(id);
      if (!r || ts >= Date.parse(r.at)) {
        const latest = {
          provider: e.api_provider,
          remaining,
          limit,
          share,
          reset: e[`provider_${kind}_reset`],
          at,
        };
        r = r
          ? Object.assign(r, latest)
          : { key, kind, ...latest, lowest_share: null, lowest_at: null, readings: 0 };
        rows.set(id, r);
      }
      r.readings++;
      if (
        share !== null &&
        (r.lowest_share === null || share < r.lowest_share || (share === r.lowest_share && at < r.lowest_at!))
      ) {
        r.lowest_share = share;
        r.lowest_at = at;
      }
    }
  }
  const out = [...rows.values()].sort(
    (a, b) =>
      (a.lowest_share ?? 2) - (b.lowest_share ?? 2) ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : a.kind < b.kind ? -1 : 1),
  );
  return { rows: out.slice(0, top), sampled: false };
}

/** The provider quota of every window (aligned outward to the minute) equals the full scan. */
export async function expectProviderQuotaOf(
  rollups: RollupReader,
  events: readonly AuditEvent[],
  windows: readonly (readonly [number, number])[],
): Promise<void> {
  for (const [since, until] of windows) {
    const from = Math.floor(since / MINUTE_MS) * MINUTE_MS;
    const to = Math.ceil(until / MINUTE_MS) * MINUTE_MS;
    expect(await rollups.providerQuota(since, until, 100), `${since}..${until}`).toEqual(
      expectedProviderQuota(events, from, to, 100),
    );
  }
}

/**
 * `tollgate report security` (alerts aside) over [sinceMs, untilMs) aligned outward to whole
 * hours, as a full scan of the events: the naive reference the rollup answer must equal.
 */
export function expectedSecurityReport(
  events: readonly AuditEvent[],
  sinceMs: number,
  untilMs: number,
  top: number,
) {
  const { fromMs, toMs } = securityReportWindow(sinceMs, untilMs);
  const inside = events.filter((e) => Date.parse(e.timestamp) >= fromMs && Date.parse(e.timestamp) < toMs);
  const bump = (m: Map<string, number>, k: string, by = 1) => m.set(k, (m.get(k) ?? 0) + by);
  const failByKey = new Map<string, number>();
  const failByIp = new Map<string, number>();
  const keysByIp = new Map<string, Set<string>>();
  const errModel = new Map<string, [number, number]>();
  const errKey = new Map<string, [number, number]>();
  const hits = new Map<string, number>();
  const hitEvents = new Map<string, number>();
  const sessions = new Map<
    string,
    { anomalous: number; users: Map<string, number>; indicators: Set<string>; events: AuditEvent[] }
  >();
  let auth = 0;
  for (const e of inside) {
    if (isAuthFailure(e)) {
      auth++;
      if (e.api_key_id !== null) bump(failByKey, e.api_key_id);
      if (e.ip_address !== null) {
        bump(failByIp, e.ip_address);
        if (e.api_key_id !== null)
          keysByIp.set(e.ip_address, (keysByIp.get(e.ip_address) ?? new Set()).add(e.api_key_id));
      }
    } else if (e.status !== 'CANCELLED') {
      const failed = isRequestFailure(e) ? 1 : 0;
      const model = e.model_used ?? e.model_requested;
      if (model !== null) {
        const x = errModel.get(model) ?? [0, 0];
        errModel.set(model, [x[0] + 1, x[1] + failed]);
      }
      if (e.api_key_id !== null) {
        const x = errKey.get(e.api_key_id) ?? [0, 0];
        errKey.set(e.api_key_id, [x[0] + 1, x[1] + failed]);
      }
    }
    for (const x of e.redactions) {
      bump(hits, x.type, x.count);
      bump(hitEvents, x.type);
    }
    if (e.session_id !== null) {
      let s = sessions.get(e.session_id);
      if (!s)
        sessions.set(
          e.session_id,
          (s = { anomalous: 0, users: new Map(), indicators: new Set(), events: [] }),
        );
      if (e.is_anomalous) {
        s.anomalous++;
        if (e.user_id !== null) bump(s.users, e.user_id);
      }
      for (const t of e.threat_indicators) s.indicators.add(t);
      // Session figures are those of AI requests (administrative actions are not).
      if (e.http_method !== 'ADMIN') s.events.push(e);
    }
  }
  const rate = (requests: number, failed: number) => (requests === 0 ? 0 : failed / requests);
  const topUser = (users: Map<string, number>): string | null =>
    [...users].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
  return {
    provider_quota: expectedProviderQuota(events, fromMs, toMs, top),
    since: new Date(fromMs).toISOString(),
    until: new Date(toMs).toISOString(),
    events: inside.length,
    auth_failures: {
      total: auth,
      by_key: ranked(
        [...failByKey].map(([key, failures]) => ({ key, failures })),
        top,
        (r) => r.failures,
        (r) => r.key,
      ),
      by_ip: ranked(
        [...failByIp].map(([ip, failures]) => ({ ip, failures, distinct_keys: keysByIp.get(ip)?.size ?? 0 })),
        top,
        (r) => r.failures,
        (r) => r.ip,
      ),
    },
    error_rates: {
      by_model: ranked(
        [...errModel].map(([model, [requests, failed]]) => ({
          model,
          requests,
          failed,
          rate: rate(requests, failed),
        })),
        top,
        (r) => r.rate,
        (r) => r.model,
      ),
      by_key: ranked(
        [...errKey]
          .filter(([, [, failed]]) => failed > 0)
          .map(([key, [requests, failed]]) => ({ key, requests, failed, rate: rate(requests, failed) })),
        top,
        (r) => r.rate,
        (r) => r.key,
      ),
    },
    redactions: [...hits]
      .map(([type, h]) => ({ type, hits: h, events: hitEvents.get(type)! }))
      .sort((a, b) => b.hits - a.hits || (a.type < b.type ? -1 : 1)),
    anomalous_sessions: ranked(
      [...sessions].filter(([, s]) => s.anomalous > 0),
      top,
      ([, s]) => s.anomalous,
      ([id]) => id,
    ).map(([session_id, s]) => {
      const inputs = s.events.map((e) => e.input_tokens).filter((x): x is number => x !== null);
      return {
        session_id,
        user_id: topUser(s.users),
        events: s.events.length,
        anomalous_events: s.anomalous,
        indicators: [...s.indicators].sort(),
        max_input_tokens: inputs.length ? Math.max(...inputs) : null,
        cost_micro_usd: s.events.reduce((n, e) => n + (e.cost_micro_usd ?? 0), 0),
      };
    }),
  };
}

/** `report security` of every window (alerts aside) equals the full scan. */
export async function expectSecurityReportOf(
  rollups: RollupReader,
  events: readonly AuditEvent[],
  windows: readonly (readonly [number, number])[],
  top = 4,
): Promise<void> {
  for (const [since, until] of windows) {
    const got = await securityReport(
      { rollups, alerts: new MemoryAlertStore() },
      { sinceMs: since, untilMs: until, top },
    );
    const { alerts: _alerts, top_offenders: _offenders, resolution_ms: _resolution, ...figures } = got;
    expect(figures, `${since}..${until}`).toEqual(expectedSecurityReport(events, since, until, top));
  }
}

/** What the security rollups must answer for a window, as a full scan (minute resolution). */
function expectedSecurity(events: readonly AuditEvent[], sinceMs: number, untilMs: number, bucketMs: number) {
  const from = Math.floor(sinceMs / MINUTE_MS) * MINUTE_MS;
  const to = Math.ceil(untilMs / MINUTE_MS) * MINUTE_MS;
  const inside = events.filter((e) => Date.parse(e.timestamp) >= from && Date.parse(e.timestamp) < to);
  const failed = inside.filter(
    (e) => e.status === 'AUTH_FAILED' || (e.auth_result !== null && e.auth_result !== 'SUCCESS'),
  );
  const pairs = new Map<
    string,
    {
      ip: string | null;
      key_id: string | null;
      prefix: string | null;
      refused: boolean;
      failures: number;
      last_ts_ms: number;
    }
  >();
  const overTime = new Map<string, { start_ms: number; refused: boolean; failures: number }>();
  for (const e of failed) {
    const ts = Date.parse(e.timestamp);
    const refused = e.status === 'AUTH_FAILED' || e.status === 'BLOCKED';
    const id = JSON.stringify([e.ip_address, e.api_key_id, e.api_key_prefix, refused]);
    const p = pairs.get(id) ?? {
      ip: e.ip_address,
      key_id: e.api_key_id,
      prefix: e.api_key_prefix,
      refused,
      failures: 0,
      last_ts_ms: 0,
    };
    p.failures++;
    p.last_ts_ms = Math.max(p.last_ts_ms, ts);
    pairs.set(id, p);
    const start = ts - (ts % bucketMs);
    const t = overTime.get(`${start}/${refused}`) ?? { start_ms: start, refused, failures: 0 };
    t.failures++;
    overTime.set(`${start}/${refused}`, t);
  }
  const hits = new Map<string, { type: string; hits: number; events: number }>();
  for (const e of inside)
    for (const x of e.redactions) {
      const h = hits.get(x.type) ?? { type: x.type, hits: 0, events: 0 };
      h.hits += x.count;
      h.events++;
      hits.set(x.type, h);
    }
  return { pairs: [...pairs.values()], over_time: [...overTime.values()], redactions: [...hits.values()] };
}

/** Auth failures and redaction hits of every window (and chart bucket size) equal the full scan. */
export async function expectSecurityOf(
  rollups: RollupReader,
  events: readonly AuditEvent[],
  windows: readonly (readonly [number, number])[],
): Promise<void> {
  const key = (p: {
    ip: string | null;
    key_id: string | null;
    prefix: string | null;
    refused: boolean;
  }): string => JSON.stringify([p.ip, p.key_id, p.prefix, p.refused]);
  for (const [since, until] of windows)
    for (const bucketMs of [5 * MINUTE_MS, HOUR_MS, DAY_MS]) {
      const want = expectedSecurity(events, since, until, bucketMs);
      const got = await rollups.authFailures(since, until, bucketMs);
      const label = `${since}..${until} by ${bucketMs}`;
      expect(
        [...got.pairs].sort((a, b) => (key(a) < key(b) ? -1 : 1)),
        label,
      ).toEqual(want.pairs.sort((a, b) => (key(a) < key(b) ? -1 : 1)));
      const byTime = (a: { start_ms: number; refused: boolean }, b: { start_ms: number; refused: boolean }) =>
        a.start_ms - b.start_ms || Number(a.refused) - Number(b.refused);
      expect([...got.over_time].sort(byTime), label).toEqual(want.over_time.sort(byTime));
      const hits = await rollups.redactionHits(since, until);
      expect(
        [...hits].sort((a, b) => (a.type < b.type ? -1 : 1)),
        label,
      ).toEqual(want.redactions.sort((a, b) => (a.type < b.type ? -1 : 1)));
      expect(hits.map((h) => h.hits)).toEqual([...hits.map((h) => h.hits)].sort((a, b) => b - a));
    }
}

/** Events every ~50 minutes over ~70 days, a few stamped up to 30 hours late (long streams). */
export function eventsOverDays(n: number, seed: number): AuditEvent[] {
  const r = rng(seed);
  let ts = Date.UTC(2025, 10, 3, 5, 7);
  return mixedEvents(n, seed).map((e, i) => {
    ts += Math.floor(r() * 6_000_000);
    const late = i > 100 && r() < 0.03 ? Math.floor(r() * 30 * HOUR_MS) : 0;
    return { ...e, timestamp: new Date(ts - late).toISOString() };
  });
}

/**
 * Windows of whole days, whole hours and arbitrary bounds over `events` (some ending after the
 * last event) answer by user and by model exactly as the events in them: day blocks, the day
 * being folded and hour or minute edges, at each dimension's resolution.
 */
export async function expectGroupsOverDays(
  rollups: RollupReader,
  events: readonly AuditEvent[],
  seed: number,
): Promise<void> {
  const r = rng(seed);
  const first = Date.parse(events[0]!.timestamp);
  const last = Math.max(...events.map((e) => Date.parse(e.timestamp)));
  for (let i = 0; i < 20; i++) {
    const a = first - DAY_MS + Math.floor(r() * (last - first + 2 * DAY_MS));
    const b = a + Math.floor(r() * 75 * DAY_MS);
    const align = [DAY_MS, HOUR_MS, 1][i % 3]!;
    const since = Math.floor(a / align) * align;
    const until = Math.max(since + 1, Math.floor(b / align) * align);
    for (const dim of ['user', 'model'] as const) {
      const resolution = dim === 'user' ? HOUR_MS : MINUTE_MS;
      const from = Math.floor(since / resolution) * resolution;
      const to = Math.ceil(until / resolution) * resolution;
      const inside = events.filter((e) => Date.parse(e.timestamp) >= from && Date.parse(e.timestamp) < to);
      const groups = await rollups.groups(dim, since, until);
      const label = `${dim} ${new Date(since).toISOString()} → ${new Date(until).toISOString()}`;
      expect(groups.map((g) => g.key).sort(), label).toEqual(
        [...new Set(inside.map((e) => keyOf(dim, e)))].sort(),
      );
      for (const { key, ...totals } of groups)
        expect(totals, label).toEqual(expectedTotals(inside.filter((e) => keyOf(dim, e) === key)));
    }
  }
}

export function rollupStoreContract(name: string, factory: RollupStoreFactory): void {
  describe(`Rollup store contract: ${name}`, () => {
    const opened: RollupStore[] = [];
    const open = async (): Promise<RollupStore> => {
      const s = await factory();
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    it('report totals equal the sum of the events for every dimension and day, however they were batched', async () => {
      const events = mixedEvents(1500, 7);
      const a = await open();
      await appendInBatches(a, events, 11);
      await expectRollupsOf(a.rollups, events);
      const b = await open();
      await appendInBatches(b, events, 99);
      for (const dim of ROLLUP_DIMENSIONS)
        expect(await b.rollups.groups(dim, ...ALL)).toEqual(await a.rollups.groups(dim, ...ALL));
      const bySession = (x: { session_id: string }, y: { session_id: string }): number =>
        x.session_id < y.session_id ? -1 : 1;
      expect((await b.rollups.sessions(...ALL)).sort(bySession)).toEqual(
        (await a.rollups.sessions(...ALL)).sort(bySession),
      );
    });

    it('answers windows over many days exactly (blocks of whole days, the day being folded, late events)', async () => {
      const events = eventsOverDays(1200, 61);
      const s = await open();
      await appendInBatches(s, events, 21);
      await expectGroupsOverDays(s.rollups, events, 8);
    }, 60_000);

    it('answers sessions of any window exactly as a full scan, written in order, late, or out of hour order (and after a rebuild)', async () => {
      const events = mixedEvents(900, 13);
      const first = Date.parse(events[0]!.timestamp);
      const last = Date.parse(events[events.length - 1]!.timestamp);
      const windows = randomWindows(first - HOUR_MS, last + HOUR_MS, 25, 17);
      // In order: the summaries answer whole windows.
      const inOrder = await open();
      await appendInBatches(inOrder, events, 23);
      await expectSessionsOf(inOrder.rollups, events, windows);
      // Out of order: every 7th batch held back and written at the end (late events, a replica
      // behind), so summaries turn inexact and reads fall back to the segments.
      const r = rng(29);
      const batches: AuditEvent[][] = [];
      for (let i = 0; i < events.length;) {
        const size = 1 + Math.floor(r() * 30);
        batches.push(events.slice(i, i + size));
        i += size;
      }
      const held = batches.filter((_, i) => i % 7 === 3);
      const writeOrder = [...batches.filter((_, i) => i % 7 !== 3), ...held];
      const late = await open();
      for (const b of writeOrder) await late.append(b);
      const written = writeOrder.flat();
      await expectSessionsOf(late.rollups, written, windows);
      await late.rebuildSessionTotals();
      await expectSessionsOf(late.rollups, written, windows);
      // The rebuild of an in-order store changes nothing.
      const before = await inOrder.rollups.sessions(...ALL);
      await inOrder.rebuildSessionTotals();
      expect(await inOrder.rollups.sessions(...ALL)).toEqual(expect.arrayContaining(before));
    });

    it('answers sessions spanning days (day summaries inside a window, hour segments at its edges) exactly as a full scan, in order, late, and rebuilt', async () => {
      // ~6 days: windows hold whole UTC days, sessions reach outside them.
      const events = mixedEvents(700, 31).map((e) => {
        const ts = Date.parse(e.timestamp);
        e.timestamp = new Date(T0 + (ts - T0) * 8).toISOString();
        return e;
      });
      const first = Date.parse(events[0]!.timestamp);
      const last = Date.parse(events[events.length - 1]!.timestamp);
      const windows = [
        ...randomWindows(first - HOUR_MS, last + HOUR_MS, 20, 37),
        [first + DAY_MS, first + 3 * DAY_MS] as [number, number],
        [Math.ceil(first / DAY_MS) * DAY_MS, Math.floor(last / DAY_MS) * DAY_MS] as [number, number],
      ];
      const inOrder = await open();
      await appendInBatches(inOrder, events, 41);
      await expectSessionsOf(inOrder.rollups, events, windows);
      // Every 5th batch written last: day summaries turn inexact, reads use their hour segments.
      const r = rng(43);
      const batches: AuditEvent[][] = [];
      for (let i = 0; i < events.length;) {
        const size = 1 + Math.floor(r() * 30);
        batches.push(events.slice(i, i + size));
        i += size;
      }
      const writeOrder = [...batches.filter((_, i) => i % 5 !== 2), ...batches.filter((_, i) => i % 5 === 2)];
      const late = await open();
      for (const b of writeOrder) await late.append(b);
      await expectSessionsOf(late.rollups, writeOrder.flat(), windows);
      await late.rebuildSessionTotals();
      await expectSessionsOf(late.rollups, writeOrder.flat(), windows);
    });

    it('answers the growing sessions of any window (top N by growth over their life) as a full scan, in order, late, and rebuilt', async () => {
      const events = growingEvents(700, 43);
      const first = Date.parse(events[0]!.timestamp);
      const last = Date.parse(events[events.length - 1]!.timestamp);
      const windows = randomWindows(first - HOUR_MS, last + HOUR_MS, 10, 71);
      const inOrder = await open();
      await appendInBatches(inOrder, events, 53);
      expect((await inOrder.rollups.growingSessions(...ALL, 100)).sessions.length).toBeGreaterThan(5);
      await expectGrowingOf(inOrder.rollups, events, windows, 5);
      await expectGrowingOf(inOrder.rollups, events, windows.slice(0, 3), 100);
      // Every 4th batch written last: inexact summaries, answered from their segments.
      const r = rng(59);
      const batches: AuditEvent[][] = [];
      for (let i = 0; i < events.length;) {
        const size = 1 + Math.floor(r() * 40);
        batches.push(events.slice(i, i + size));
        i += size;
      }
      const writeOrder = [...batches.filter((_, i) => i % 4 !== 1), ...batches.filter((_, i) => i % 4 === 1)];
      const late = await open();
      for (const b of writeOrder) await late.append(b);
      await expectGrowingOf(late.rollups, writeOrder.flat(), windows, 5);
      await late.rebuildSessionTotals();
      await expectGrowingOf(late.rollups, writeOrder.flat(), windows, 5);
    }, 60_000);

    it('pages the sessions of any window by cost (cursor after cursor) exactly as a full scan ranked, with the count and sums of all of them, in order, late, and rebuilt', async () => {
      const events = pagedSessionEvents(900, 67);
      const first = Date.parse(events[0]!.timestamp);
      const last = Date.parse(events[events.length - 1]!.timestamp);
      const windows = [
        ...randomWindows(first - HOUR_MS, last + HOUR_MS, 12, 73),
        [first + DAY_MS, first + 3 * DAY_MS] as [number, number],
        // A window in the past: sessions spanning it whole may have no request in it.
        [first + 2 * DAY_MS + HOUR_MS, first + 2 * DAY_MS + 3 * HOUR_MS] as [number, number],
      ];
      const inOrder = await open();
      await appendInBatches(inOrder, events, 37);
      expect((await inOrder.rollups.sessionPage(...ALL, { limit: 100, after: null })).total).toBeGreaterThan(
        30,
      );
      for (const limit of [3, 100]) await expectSessionPagesOf(inOrder.rollups, events, windows, limit);
      // Every 4th batch written last: inexact summaries (growth from their segments).
      const r = rng(79);
      const batches: AuditEvent[][] = [];
      for (let i = 0; i < events.length;) {
        const size = 1 + Math.floor(r() * 30);
        batches.push(events.slice(i, i + size));
        i += size;
      }
      const writeOrder = [...batches.filter((_, i) => i % 4 !== 2), ...batches.filter((_, i) => i % 4 === 2)];
      const late = await open();
      for (const b of writeOrder) await late.append(b);
      await expectSessionPagesOf(late.rollups, writeOrder.flat(), windows, 7);
      await late.rebuildSessionTotals();
      await expectSessionPagesOf(late.rollups, writeOrder.flat(), windows, 7);
    }, 60_000);

    it('answers auth failures and redaction hits of any window exactly as a full scan, however batched, late, replayed or rebuilt', async () => {
      const events = securityEvents(800, 19);
      const first = Date.parse(events[0]!.timestamp);
      const last = Date.parse(events[events.length - 1]!.timestamp);
      const windows = randomWindows(first - HOUR_MS, last + HOUR_MS, 10, 47);
      const s = await open();
      // Late batches (held back, written last) and a replayed overlap: neither changes the answer.
      const held = events.slice(200, 260);
      await appendInBatches(s, [...events.slice(0, 200), ...events.slice(260)], 31);
      await s.append(held);
      await s.append(events.slice(100, 300));
      await expectSecurityOf(s.rollups, events, windows);
      await s.rebuildSecurity();
      await expectSecurityOf(s.rollups, events, windows);
    });

    it('answers `report security` of any window exactly as a full scan of the events, however batched, late, replayed or rebuilt', async () => {
      const events = securityEvents(900, 23);
      const first = Date.parse(events[0]!.timestamp);
      const last = Date.parse(events[events.length - 1]!.timestamp);
      const windows = randomWindows(first - HOUR_MS, last + HOUR_MS, 12, 61);
      const s = await open();
      const held = events.slice(300, 380);
      await appendInBatches(s, [...events.slice(0, 300), ...events.slice(380)], 37);
      await s.append(held);
      await s.append(events.slice(250, 420));
      await expectSecurityReportOf(s.rollups, events, windows);
      // top large enough to list every row: the sums themselves, not only the ranked heads.
      await expectSecurityReportOf(s.rollups, events, windows.slice(0, 3), 1000);
      await s.rebuildSecurity();
      await expectSecurityReportOf(s.rollups, events, windows);
    });

    it('answers the provider quota of any window exactly as a full scan (latest reading, lowest share, readings), however batched, late, replayed or rebuilt', async () => {
      const events = securityEvents(900, 29);
      const first = Date.parse(events[0]!.timestamp);
      const last = Date.parse(events[events.length - 1]!.timestamp);
      const windows = [...randomWindows(first - HOUR_MS, last + HOUR_MS, 12, 67), [0, ALL[1]] as const];
      const s = await open();
      const held = events.slice(400, 470);
      await appendInBatches(s, [...events.slice(0, 400), ...events.slice(470)], 41);
      await s.append(held);
      await s.append(events.slice(350, 500));
      expect((await s.rollups.providerQuota(...ALL, 100)).rows.length).toBeGreaterThan(3);
      await expectProviderQuotaOf(s.rollups, events, windows);
      await s.rebuildSecurity();
      await expectProviderQuotaOf(s.rollups, events, windows);
    });

    it('does not count a replayed batch twice (whole, overlapping, or a duplicate within a batch)', async () => {
      const s = await open();
      const events = mixedEvents(120, 3);
      await s.append(events.slice(0, 60));
      await s.append(events.slice(0, 60)); // the same batch again (its commit was not acknowledged)
      await s.append(events.slice(40, 100)); // a replay overlapping what is stored
      await s.append([...events.slice(100), events[110]!, events[0]!]);
      await expectRollupsOf(s.rollups, events);
      const sessions = await s.rollups.sessions(...ALL);
      expect(sessions.reduce((n, x) => n + x.requests, 0)).toBe(events.filter((e) => e.session_id).length);
    });

    it('leaves administrative actions out (they are in the audit trail, not AI requests)', async () => {
      const s = await open();
      const events = mixedEvents(40, 5);
      const admin = [0, 1, 2].map((i) =>
        event(9_000_000 + i, T0 + i * 1000, {
          http_method: 'ADMIN',
          endpoint: 'admin:keys.create',
          virtual_key_id: 'vk0',
          feature_name: 'admin',
          session_id: 'admin-session',
          usage_source: 'none',
          cost_micro_usd: null,
        }),
      );
      await s.append([...events.slice(0, 20), ...admin, ...events.slice(20)]);
      await expectRollupsOf(s.rollups, events);
      expect((await s.rollups.sessions(...ALL)).map((x) => x.session_id)).not.toContain('admin-session');
    });

    it('buckets events across hour and day boundaries, and answers windows at the dimension resolution', async () => {
      const s = await open();
      const midnight = Date.UTC(2026, 2, 9);
      const at = [
        -HOUR_MS - 1,
        -61_000,
        -30_000,
        -1,
        0,
        30_000,
        59_999,
        60_000,
        HOUR_MS - 1,
        HOUR_MS,
        DAY_MS - 1,
        DAY_MS + 5 * HOUR_MS,
      ];
      const events = at.map((dt, i) =>
        event(i, midnight + dt, {
          user_id: `u${i % 3}`,
          model_used: 'm',
          cost_micro_usd: 1 << i,
          input_tokens: 10,
        }),
      );
      for (const e of events) await s.append([e]); // one per batch: every later hour folds the earlier ones into their days
      await expectRollupsOf(s.rollups, events);
      const sum = (from: number, to: number): number =>
        events
          .filter((e) => Date.parse(e.timestamp) >= from && Date.parse(e.timestamp) < to)
          .reduce((n, e) => n + e.cost_micro_usd!, 0);
      // Totals and models: minute resolution; users: hour resolution (windows aligned outward).
      for (const [from, to] of [
        [midnight - MINUTE_MS, midnight + MINUTE_MS],
        [midnight, midnight + DAY_MS],
        [midnight - DAY_MS, midnight + 2 * DAY_MS],
        [midnight + 20_000, midnight + HOUR_MS + 1],
      ] as const) {
        const [total] = await s.rollups.groups('all', from, to);
        const minuteFrom = Math.floor(from / MINUTE_MS) * MINUTE_MS;
        const minuteTo = Math.ceil(to / MINUTE_MS) * MINUTE_MS;
        expect(total?.cost_micro_usd ?? 0, `all ${from}..${to}`).toBe(sum(minuteFrom, minuteTo));
        expect((await s.rollups.groups('model', from, to))[0]?.cost_micro_usd ?? 0).toBe(
          sum(minuteFrom, minuteTo),
        );
        const users = await s.rollups.groups('user', from, to);
        expect(
          users.reduce((n, g) => n + g.cost_micro_usd, 0),
          `user ${from}..${to}`,
        ).toBe(sum(Math.floor(from / HOUR_MS) * HOUR_MS, Math.ceil(to / HOUR_MS) * HOUR_MS));
      }
      const days = await s.rollups.days(midnight - DAY_MS, midnight + 2 * DAY_MS);
      expect(days.map((d) => [d.key, d.cost_micro_usd])).toEqual([
        ['2026-03-08', sum(midnight - DAY_MS, midnight)],
        ['2026-03-09', sum(midnight, midnight + DAY_MS)],
        ['2026-03-10', sum(midnight + DAY_MS, midnight + 2 * DAY_MS)],
      ]);
    });

    it('counts a late event (stamped in an hour already folded into its day)', async () => {
      const s = await open();
      const day = Date.UTC(2026, 0, 10);
      const mk = (i: number, ts: number, cost: number): AuditEvent =>
        event(i, ts, { user_id: 'u', cost_micro_usd: cost });
      await s.append([mk(1, day + 1 * HOUR_MS, 10)]);
      await s.append([mk(2, day + 5 * HOUR_MS, 20)]);
      await s.append([mk(3, day + 30 * HOUR_MS, 40)]); // folds day 10 entirely
      await s.append([mk(4, day + 2 * HOUR_MS, 100), mk(5, day + 3 * HOUR_MS, 1000)]); // long streams, written late
      expect(await s.rollups.groups('user', day, day + DAY_MS)).toMatchObject([
        { key: 'u', cost_micro_usd: 1130, requests: 4 },
      ]);
      expect(await s.rollups.groups('user', day - DAY_MS, day + 3 * DAY_MS)).toMatchObject([
        { key: 'u', cost_micro_usd: 1170, requests: 5 },
      ]);
      expect(await s.rollups.days(day, day + DAY_MS)).toMatchObject([
        { key: '2026-01-10', cost_micro_usd: 1130 },
      ]);
    });

    it('counts unpriced requests as unpriced (never as cost 0), and keeps estimated usage apart', async () => {
      const s = await open();
      const ts = Date.UTC(2026, 4, 1, 10);
      await s.append([
        event(1, ts, { user_id: 'a', cost_micro_usd: null, input_tokens: 100, output_tokens: 10 }),
        event(2, ts + 1, { user_id: 'a', cost_micro_usd: 0, input_tokens: 5 }),
        event(3, ts + 2, {
          user_id: 'a',
          cost_micro_usd: 700,
          usage_source: 'estimated',
          input_tokens: 40,
          output_tokens: 4,
          status: 'CANCELLED',
        }),
        event(4, ts + 3, { user_id: 'a', cost_micro_usd: null, usage_source: 'estimated', input_tokens: 8 }),
        event(5, ts + 4, {
          user_id: 'b',
          cost_micro_usd: 50,
          input_tokens: 1,
          cached_input_tokens: 1,
          reasoning_tokens: 3,
          output_tokens: 6,
        }),
      ]);
      const groups = await s.rollups.groups('user', ts - HOUR_MS, ts + HOUR_MS);
      expect(groups).toEqual([
        {
          key: 'a',
          requests: 4,
          // The CANCELLED event: not an error (core/event-outcome.ts, issue 19; this said 1 before).
          errors: 0,
          input_tokens: 153,
          output_tokens: 14,
          cached_input_tokens: 0,
          reasoning_tokens: 0,
          estimated_requests: 2,
          estimated_input_tokens: 48,
          estimated_output_tokens: 4,
          estimated_cost_micro_usd: 700,
          cost_micro_usd: 700,
          unpriced_requests: 2,
        },
        {
          key: 'b',
          requests: 1,
          errors: 0,
          input_tokens: 1,
          output_tokens: 6,
          cached_input_tokens: 1,
          reasoning_tokens: 3,
          estimated_requests: 0,
          estimated_input_tokens: 0,
          estimated_output_tokens: 0,
          estimated_cost_micro_usd: 0,
          cost_micro_usd: 50,
          unpriced_requests: 0,
        },
      ]);
    });

    it.each([
      [[1000, 2000, 3000, 4000, 5000, 6000]],
      [[5000, 4000, 3000]],
      [[100, 200, 150, 300, 400, 500, 100, 200]],
      [[null, 100, null, 200, 300, null]],
      [[7, 7, 7, 8]],
    ])('joins session growth across batches and hours, as a naive count over %o', async (inputs) => {
      for (const [seed, step] of [
        [1, 30_000],
        [3, 20 * MINUTE_MS],
        [5, 50 * MINUTE_MS],
      ] as const) {
        const s = await open();
        const start = Date.UTC(2026, 0, 5, 22, 17, 31);
        const evs = inputs.map((input, i) =>
          event(i, start + i * step, { session_id: 'leak', input_tokens: input, cost_micro_usd: 1 }),
        );
        const r = rng(seed);
        for (let i = 0; i < evs.length;) {
          const size = 1 + Math.floor(r() * 3);
          await s.append(evs.slice(i, i + size));
          i += size;
        }
        const [row] = await s.rollups.sessions(...ALL);
        expect(row, `step ${step}`).toMatchObject({
          session_id: 'leak',
          requests: inputs.length,
          cost_micro_usd: inputs.length,
          first_ts_ms: start,
          last_ts_ms: start + (inputs.length - 1) * step,
          ...growthReference(inputs),
        });
        // A window lists only the sessions active in it.
        expect(await s.rollups.sessions(start + 3 * DAY_MS, start + 4 * DAY_MS)).toEqual([]);
      }
    });
  });
}
