import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { blankEvent, type AuditEvent } from '../../core/audit-event.js';
import {
  expectedTotals,
  expectSessionsOf,
  growthReference as reference,
  keyOf,
  randomWindows,
} from '../../../test/contract/rollup-store.contract.js';
import { sqliteRollupReader } from './sqlite-rollups.js';
import { createCatalog, defaultCatalogPath, loadCatalogFile } from '../../pricing/catalog.js';
import { createPricer } from '../../pricing/pricer.js';
import {
  bucketRanges,
  createSqliteRollups,
  DAY_MS,
  GROWING_INEXACT_UP_TO,
  HOUR_MS,
  MINUTE_MS,
  ROLLUP_DIMENSIONS,
} from './sqlite-rollups.js';

const pricer = createPricer(createCatalog(loadCatalogFile(defaultCatalogPath())));
const T0 = Date.UTC(2026, 0, 5, 22, 17, 31);

/** Deterministic pseudo-random numbers (tests must be reproducible). */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

function makeEvents(n: number, seed: number): AuditEvent[] {
  const r = rng(seed);
  const models = [
    'gpt-4.1',
    'claude-sonnet-4-5-20250929',
    'gemini-2.5-flash',
    'deepseek-v3.2',
    'no-price-model',
    null,
  ];
  const out: AuditEvent[] = [];
  let ts = T0;
  for (let i = 0; i < n; i++) {
    ts += Math.floor(r() * 90_000); // events over ~2 days
    const e = blankEvent({ id: `e${i}`, timestamp: new Date(ts).toISOString(), source: 'gateway' });
    e.model_used = models[Math.floor(r() * models.length)]!;
    e.user_id = r() < 0.1 ? null : `u${Math.floor(r() * 7)}`;
    e.session_id = r() < 0.1 ? null : `s${Math.floor(r() * 5)}`;
    e.feature_name = r() < 0.2 ? null : `f${Math.floor(r() * 3)}`;
    e.team = `t${Math.floor(r() * 2)}`;
    e.api_key_id = `k${Math.floor(r() * 4)}`;
    e.virtual_key_id = r() < 0.3 ? `vk${Math.floor(r() * 2)}` : null;
    const kind = r();
    if (kind < 0.1) {
      e.status = 'SERVER_ERROR';
      e.usage_source = 'none';
    } else {
      e.usage_source = kind < 0.3 ? 'estimated' : 'reported';
      if (kind < 0.2) e.status = 'CANCELLED'; // interrupted stream, estimated usage
      e.input_tokens = Math.floor(r() * 50_000);
      e.cached_input_tokens = e.usage_source === 'reported' ? Math.floor(r() * e.input_tokens) : null;
      e.output_tokens = Math.floor(r() * 4000);
      e.reasoning_tokens = r() < 0.3 ? Math.floor(r() * e.output_tokens) : null;
    }
    pricer.price(e);
    out.push(e);
  }
  return out;
}

function applyInBatches(
  db: Database.Database,
  events: readonly AuditEvent[],
  seed: number,
): ReturnType<typeof createSqliteRollups> {
  const rollups = createSqliteRollups(db);
  const tx = db.transaction((b: readonly AuditEvent[]) => rollups.applyRollups(b));
  const r = rng(seed);
  for (let i = 0; i < events.length;) {
    const size = 1 + Math.floor(r() * 40);
    tx(events.slice(i, i + size));
    i += size;
  }
  return rollups;
}

describe('bucketRanges', () => {
  it('uses days in the middle, hours and minutes at the edges', () => {
    const since = Date.UTC(2026, 0, 1, 22, 30);
    const until = Date.UTC(2026, 0, 4, 1, 15);
    expect(bucketRanges(since, until)).toEqual([
      { granularity: 0, from: since, to: Date.UTC(2026, 0, 1, 23) },
      { granularity: 1, from: Date.UTC(2026, 0, 1, 23), to: Date.UTC(2026, 0, 2) },
      { granularity: 2, from: Date.UTC(2026, 0, 2), to: Date.UTC(2026, 0, 4) },
      { granularity: 1, from: Date.UTC(2026, 0, 4), to: Date.UTC(2026, 0, 4, 1) },
      { granularity: 0, from: Date.UTC(2026, 0, 4, 1), to: until },
    ]);
  });

  it('aligns outward to the finest bucket of the dimension', () => {
    expect(bucketRanges(Date.UTC(2026, 0, 1, 10, 30), Date.UTC(2026, 0, 1, 12, 10), HOUR_MS)).toEqual([
      { granularity: 1, from: Date.UTC(2026, 0, 1, 10), to: Date.UTC(2026, 0, 1, 13) },
    ]);
    expect(bucketRanges(5, 5)).toEqual([]);
    expect(bucketRanges(0, 1)).toEqual([{ granularity: 0, from: 0, to: MINUTE_MS }]);
  });

  it('does not use day buckets past the folded watermark', () => {
    const ranges = bucketRanges(0, 3 * DAY_MS, MINUTE_MS, DAY_MS + 5 * HOUR_MS);
    expect(ranges).toEqual([
      { granularity: 2, from: 0, to: DAY_MS },
      { granularity: 1, from: DAY_MS, to: 3 * DAY_MS },
    ]);
  });
});

describe('sqlite rollups', () => {
  const events = makeEvents(3000, 7);
  const all = [0, Date.UTC(2100, 0, 1)] as const;

  it('report totals equal the sum of the events exactly, for every dimension (priced, unpriced, estimated)', () => {
    const db = new Database(':memory:');
    const rollups = applyInBatches(db, events, 11);
    const expected = expectedTotals(events);
    expect(expected.unpriced_requests).toBeGreaterThan(0);
    expect(expected.estimated_requests).toBeGreaterThan(0);
    for (const dim of ROLLUP_DIMENSIONS) {
      const groups = rollups.groups(dim, ...all);
      const keys = new Set(events.map((e) => keyOf(dim, e)));
      expect(groups.map((g) => g.key).sort()).toEqual([...keys].sort());
      for (const g of groups) {
        const { key, ...totals } = g;
        expect(totals, `${dim}=${key}`).toEqual(expectedTotals(events.filter((e) => keyOf(dim, e) === key)));
      }
    }
    const days = rollups.days(...all);
    for (const d of days) {
      const { key, ...totals } = d;
      expect(totals).toEqual(expectedTotals(events.filter((e) => e.timestamp.startsWith(key))));
    }
    expect(days.reduce((s, d) => s + d.cost_micro_usd, 0)).toBe(expected.cost_micro_usd);
  });

  it('gives the same answer for windows, at the dimension resolution', () => {
    const db = new Database(':memory:');
    const rollups = applyInBatches(db, events, 3);
    const since = T0 + 7 * HOUR_MS + 13 * MINUTE_MS;
    const until = T0 + 31 * HOUR_MS + 2 * MINUTE_MS;
    const inMinuteWindow = (e: AuditEvent): boolean => {
      const t = Date.parse(e.timestamp);
      return t >= Math.floor(since / MINUTE_MS) * MINUTE_MS && t < Math.ceil(until / MINUTE_MS) * MINUTE_MS;
    };
    const inHourWindow = (e: AuditEvent): boolean => {
      const t = Date.parse(e.timestamp);
      return t >= Math.floor(since / HOUR_MS) * HOUR_MS && t < Math.ceil(until / HOUR_MS) * HOUR_MS;
    };
    const [total] = rollups.groups('all', since, until);
    expect(total).toMatchObject(expectedTotals(events.filter(inMinuteWindow)));
    const users = rollups.groups('user', since, until);
    expect(users.reduce((s, g) => s + g.cost_micro_usd, 0)).toBe(
      expectedTotals(events.filter(inHourWindow)).cost_micro_usd,
    );
  });

  it('does not depend on how events were batched', () => {
    const a = applyInBatches(new Database(':memory:'), events, 1);
    const b = applyInBatches(new Database(':memory:'), events, 99);
    for (const dim of ROLLUP_DIMENSIONS) expect(a.groups(dim, ...all)).toEqual(b.groups(dim, ...all));
    expect(a.sessions(...all).sort((x, y) => x.session_id.localeCompare(y.session_id))).toEqual(
      b.sessions(...all).sort((x, y) => x.session_id.localeCompare(y.session_id)),
    );
  });

  it('counts a late event (stamped in an hour already folded into its day)', () => {
    const db = new Database(':memory:');
    const rollups = createSqliteRollups(db);
    const mk = (id: string, ts: number, cost: number): AuditEvent => ({
      ...blankEvent({ id, timestamp: new Date(ts).toISOString(), source: 'gateway' }),
      user_id: 'u',
      cost_micro_usd: cost,
    });
    const day = Date.UTC(2026, 0, 10);
    rollups.applyRollups([mk('a', day + 1 * HOUR_MS, 10)]);
    rollups.applyRollups([mk('b', day + 5 * HOUR_MS, 20)]);
    rollups.applyRollups([mk('c', day + 30 * HOUR_MS, 40)]); // folds day 10 entirely
    rollups.applyRollups([mk('late', day + 2 * HOUR_MS, 100)]); // a long stream, written late
    expect(rollups.groups('user', day, day + DAY_MS)).toMatchObject([
      { key: 'u', cost_micro_usd: 130, requests: 3 },
    ]);
    expect(rollups.groups('user', day - DAY_MS, day + 3 * DAY_MS)).toMatchObject([
      { key: 'u', cost_micro_usd: 170, requests: 4 },
    ]);
  });

  it('drops the summaries-by-last-time index of an older store: the span index (its prefix) serves those reads', () => {
    const db = new Database(':memory:');
    applyInBatches(db, events.slice(0, 200), 3);
    const indexes = (): string[] =>
      db
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'session_totals' ORDER BY name`,
        )
        .pluck()
        .all() as string[];
    expect(indexes()).not.toContain('session_totals_last');
    // A store made before: the index is there until the next open.
    db.exec('CREATE INDEX session_totals_last ON session_totals (last_ts_ms)');
    const reopened = createSqliteRollups(db);
    expect(indexes()).toEqual(expect.arrayContaining(['session_totals_span', 'session_totals_cost']));
    expect(indexes()).not.toContain('session_totals_last');
    const plan = db
      .prepare(
        'EXPLAIN QUERY PLAN SELECT session_id FROM session_totals WHERE last_ts_ms >= ? AND first_ts_ms < ?',
      )
      .all(0, 1) as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/session_totals_span/);
    expect(reopened.sessions(...all).length).toBeGreaterThan(0);
  });

  it('rolls back with the transaction that failed', () => {
    const db = new Database(':memory:');
    const rollups = createSqliteRollups(db);
    const e1 = makeEvents(50, 5);
    expect(() =>
      db.transaction(() => {
        rollups.applyRollups(e1);
        throw new Error('event insert failed');
      })(),
    ).toThrow('event insert failed');
    expect(rollups.groups('all', ...all)).toEqual([]);
    db.transaction(() => rollups.applyRollups(e1))();
    expect(rollups.groups('all', ...all)[0]).toMatchObject({ requests: 50 });
  });
});

describe('session growth', () => {
  function session(inputs: (number | null)[], start = T0, stepMs = 30_000): AuditEvent[] {
    return inputs.map((input, i) => ({
      ...blankEvent({
        id: `x${i}`,
        timestamp: new Date(start + i * stepMs).toISOString(),
        source: 'gateway',
      }),
      session_id: 'leak',
      input_tokens: input,
      cost_micro_usd: 1,
    }));
  }

  it.each([
    [[1000, 2000, 3000, 4000, 5000, 6000]],
    [[5000, 4000, 3000]],
    [[100, 200, 150, 300, 400, 500, 100, 200]],
    [[null, 100, null, 200, 300, null]],
    [[7, 7, 7, 8]],
  ])('matches a naive count for %o under any batching, within an hour and across hours', (inputs) => {
    for (const [seed, step] of [
      [1, 30_000],
      [2, 30_000],
      [3, 20 * MINUTE_MS],
      [4, 20 * MINUTE_MS],
      [5, 50 * MINUTE_MS],
    ] as const) {
      const db = new Database(':memory:');
      const rollups = createSqliteRollups(db);
      const evs = session(inputs, T0, step);
      const r = rng(seed);
      for (let i = 0; i < evs.length;) {
        const size = 1 + Math.floor(r() * 3);
        rollups.applyRollups(evs.slice(i, i + size));
        i += size;
      }
      const [row] = rollups.sessions(0, Date.UTC(2100, 0, 1));
      expect(row).toMatchObject({
        session_id: 'leak',
        requests: inputs.length,
        cost_micro_usd: inputs.length,
        ...reference(inputs),
      });
    }
  });

  it('lists only sessions active in the window', () => {
    const db = new Database(':memory:');
    const rollups = createSqliteRollups(db);
    rollups.applyRollups(session([1, 2, 3]));
    expect(rollups.sessions(T0 + DAY_MS, T0 + 2 * DAY_MS)).toEqual([]);
    expect(rollups.sessions(T0, T0 + 1)).toHaveLength(1);
  });
});

describe('sqlite rollups over many days (day blocks)', () => {
  /** Events every ~25 minutes over ~70 days, a few stamped hours late (long streams). */
  function spread(n: number, seed: number): AuditEvent[] {
    const r = rng(seed);
    const base = makeEvents(n, seed);
    let ts = Date.UTC(2025, 10, 3, 5, 7);
    return base.map((e, i) => {
      ts += Math.floor(r() * 3_000_000);
      const late = i > 100 && r() < 0.03 ? Math.floor(r() * 30 * HOUR_MS) : 0;
      return { ...e, id: `w${i}`, timestamp: new Date(ts - late).toISOString() };
    });
  }
  const events = spread(4000, 5);
  const inWindow =
    (since: number, until: number, resolution: number) =>
    (e: AuditEvent): boolean => {
      const t = Date.parse(e.timestamp);
      return (
        t >= Math.floor(since / resolution) * resolution && t < Math.ceil(until / resolution) * resolution
      );
    };

  function check(rollups: ReturnType<typeof createSqliteRollups>, seed: number): void {
    const r = rng(seed);
    const first = Date.parse(events[0]!.timestamp);
    const last = Math.max(...events.map((e) => Date.parse(e.timestamp)));
    for (let i = 0; i < 40; i++) {
      // Whole days, whole hours and arbitrary bounds; some windows end after the last event.
      const a = first - DAY_MS + Math.floor(r() * (last - first + 2 * DAY_MS));
      const b = a + Math.floor(r() * 75 * DAY_MS);
      const align = [DAY_MS, HOUR_MS, 1][i % 3]!;
      const since = Math.floor(a / align) * align;
      const until = Math.max(since + 1, Math.floor(b / align) * align);
      for (const dim of ['user', 'model'] as const) {
        const resolution = dim === 'user' ? HOUR_MS : MINUTE_MS;
        const inside = events.filter(inWindow(since, until, resolution));
        const groups = rollups.groups(dim, since, until);
        const keys = new Set(inside.map((e) => keyOf(dim, e)));
        expect(
          groups.map((g) => g.key).sort(),
          `${dim} ${new Date(since).toISOString()} → ${new Date(until).toISOString()}`,
        ).toEqual([...keys].sort());
        for (const { key, ...totals } of groups)
          expect(totals).toEqual(expectedTotals(inside.filter((e) => keyOf(dim, e) === key)));
      }
    }
  }

  it('answers every window exactly, with blocks of whole days and the day being folded', () => {
    const db = new Database(':memory:');
    const rollups = applyInBatches(db, events, 21);
    const blocks = db
      .prepare('SELECT COUNT(*) FROM cost_rollups WHERE granularity > 2')
      .pluck()
      .get() as number;
    expect(blocks).toBeGreaterThan(0);
    check(rollups, 8);
  });

  it('builds the blocks of a store written before they existed', () => {
    const db = new Database(':memory:');
    applyInBatches(db, events.slice(0, 2500), 4);
    db.exec(
      `DELETE FROM cost_rollups WHERE granularity > 2; DELETE FROM rollup_state WHERE name LIKE 'day_blocks%'`,
    );
    const reopened = applyInBatches(db, events.slice(2500), 6);
    check(reopened, 9);
  });

  it('reads an old store opened read-only from its day rows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-rollups-'));
    try {
      const db = new Database(join(dir, 'r.db'));
      applyInBatches(db, events, 2);
      db.exec(
        `DELETE FROM cost_rollups WHERE granularity > 2; DELETE FROM rollup_state WHERE name LIKE 'day_blocks%'`,
      );
      db.close();
      const ro = new Database(join(dir, 'r.db'), { readonly: true });
      check(createSqliteRollups(ro), 10);
      ro.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite session summaries (session_totals)', () => {
  const events = makeEvents(1200, 31);
  const first = Date.parse(events[0]!.timestamp);
  const last = Date.parse(events[events.length - 1]!.timestamp);
  const windows = randomWindows(first - HOUR_MS, last + HOUR_MS, 15, 37);
  /** A store as written before session_totals: the table and its state row gone. */
  const makeOld = (db: Database.Database): void => {
    db.exec(
      `DROP TABLE session_totals; DROP INDEX session_rollups_session; DELETE FROM rollup_state WHERE name LIKE 'session_totals%'`,
    );
  };

  it('survives a restart: a file reopened answers the same and keeps adding', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-sessions-'));
    try {
      const path = join(dir, 's.db');
      let db = new Database(path);
      applyInBatches(db, events.slice(0, 700), 3);
      db.close();
      db = new Database(path);
      const rollups = applyInBatches(db, events.slice(700), 5);
      await expectSessionsOf(sqliteRollupReader(rollups), events, windows);
      expect(db.prepare('SELECT COUNT(*) FROM session_totals WHERE exact = 1').pluck().get()).toBeGreaterThan(
        0,
      );
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives a store written before the summaries inexact ones from its segments, exact again after a rebuild', async () => {
    const db = new Database(':memory:');
    applyInBatches(db, events.slice(0, 800), 7);
    makeOld(db);
    const rollups = applyInBatches(db, events.slice(800), 9);
    expect(db.prepare('SELECT COUNT(*) FROM session_totals WHERE exact = 0').pluck().get()).toBeGreaterThan(
      0,
    );
    await expectSessionsOf(sqliteRollupReader(rollups), events, windows);
    expect(rollups.rebuildSessionTotals()).toBe(
      new Set(events.map((e) => e.session_id).filter(Boolean)).size,
    );
    expect(db.prepare('SELECT COUNT(*) FROM session_totals WHERE exact = 0').pluck().get()).toBe(0);
    await expectSessionsOf(sqliteRollupReader(rollups), events, windows);
  });

  it('reads an old store opened read-only from its segments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-sessions-'));
    try {
      const db = new Database(join(dir, 'r.db'));
      applyInBatches(db, events, 2);
      makeOld(db);
      db.close();
      const ro = new Database(join(dir, 'r.db'), { readonly: true });
      await expectSessionsOf(sqliteRollupReader(createSqliteRollups(ro)), events, windows);
      ro.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('growing sessions with inexact summaries', () => {
  it('ranks at most GROWING_INEXACT_UP_TO inexact summaries and says how many there were, counted in the window only', () => {
    const db = new Database(':memory:');
    const rollups = createSqliteRollups(db);
    // 1,005 sessions, each written hour 2 first and hour 1 after it: every summary inexact.
    const at = (hour: number, i: number, session: string, input: number): AuditEvent => ({
      ...blankEvent({
        id: `g${hour}-${session}`,
        timestamp: new Date(T0 + hour * HOUR_MS + i).toISOString(),
        source: 'gateway',
      }),
      session_id: session,
      input_tokens: input,
      usage_source: 'reported',
    });
    const sessions = Array.from({ length: 1005 }, (_, i) => `x${String(i).padStart(4, '0')}`);
    db.transaction(() => rollups.applyRollups(sessions.map((s, i) => at(2, i, s, 5000))))();
    db.transaction(() => rollups.applyRollups(sessions.map((s, i) => at(1, i, s, 100))))();
    // A week later, one more out-of-order session: outside the first window, inside the second.
    db.transaction(() => rollups.applyRollups([at(24 * 7 + 2, 0, 'later', 5000)]))();
    db.transaction(() => rollups.applyRollups([at(24 * 7 + 1, 0, 'later', 100)]))();
    expect(db.prepare('SELECT COUNT(*) FROM session_totals WHERE exact = 0').pluck().get()).toBe(1006);
    const first = rollups.growingSessions(T0, T0 + 3 * HOUR_MS, 10);
    expect(first).toMatchObject({ inexact: 1005, inexact_ranked: GROWING_INEXACT_UP_TO });
    expect(first.sessions).toHaveLength(10);
    const later = rollups.growingSessions(T0 + 24 * 7 * HOUR_MS, T0 + (24 * 7 + 3) * HOUR_MS, 10);
    expect(later).toMatchObject({ inexact: 1, inexact_ranked: 1 });
    expect(later.sessions.map((s) => s.session_id)).toEqual(['later']);
    rollups.rebuildSessionTotals();
    expect(rollups.growingSessions(T0, T0 + 3 * HOUR_MS, 10)).toMatchObject({
      inexact: 0,
      inexact_ranked: 0,
    });
  });
});
