import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { blankEvent, type AuditEvent } from '../core/audit-event.js';
import { createCatalog, defaultCatalogPath, loadCatalogFile } from '../pricing/catalog.js';
import { createPricer } from '../pricing/pricer.js';
import { estimateUsage } from '../pricing/token-estimate.js';
import { createSqliteRollups, sqliteRollupReader } from '../store/sqlite/sqlite-rollups.js';
import { decodeSessionCursor } from '../store/rollups.js';
import {
  COST_REPORT_BY,
  costReport,
  type CostReport,
  formatCostCsv,
  formatCostJson,
  formatCostTable,
  formatMicroUsd,
  MAX_MODEL_ROWS,
  OTHER_MODELS,
} from './cost-report.js';

const pricer = createPricer(createCatalog(loadCatalogFile(defaultCatalogPath())));
const DAY = Date.UTC(2026, 0, 20);

function ev(i: number, init: Partial<AuditEvent>): AuditEvent {
  const e: AuditEvent = {
    ...blankEvent({ id: `e${i}`, timestamp: new Date(DAY + i * 60_000).toISOString(), source: 'gateway' }),
    usage_source: 'reported',
    ...init,
  };
  pricer.price(e);
  return e;
}

/** A small day of traffic: priced, unpriced, an interrupted stream with estimated usage, and a leaking tab. */
function traffic(): AuditEvent[] {
  const out: AuditEvent[] = [];
  let i = 0;
  out.push(
    ev(i++, {
      user_id: 'alice',
      team: 'web',
      feature_name: 'chat',
      model_used: 'gpt-4.1-2025-04-14',
      input_tokens: 1234,
      output_tokens: 567,
      session_id: 'a1',
    }),
  );
  out.push(
    ev(i++, {
      user_id: 'alice',
      team: 'web',
      feature_name: 'chat',
      model_used: 'claude-sonnet-4-5',
      input_tokens: 1000,
      output_tokens: 500,
      cached_input_tokens: 0,
      session_id: 'a1',
    }),
  );
  out.push(
    ev(i++, {
      user_id: 'bob',
      team: 'data',
      feature_name: 'etl',
      model_used: 'my-finetune',
      input_tokens: 50,
      output_tokens: 5,
    }),
  );
  const est = estimateUsage({
    model: 'gemini-2.5-flash',
    promptText: 'Summarise the attached report, please.',
    outputText: 'The report says',
  });
  out.push(
    ev(i++, {
      user_id: 'bob',
      team: 'data',
      feature_name: 'etl',
      model_used: 'gemini-2.5-flash',
      status: 'CANCELLED',
      usage_source: 'estimated',
      ...est,
    }),
  );
  out.push(
    ev(i++, {
      user_id: null,
      team: 'data',
      model_used: 'deepseek-v3.2',
      status: 'SERVER_ERROR',
      usage_source: 'none',
    }),
  );
  // The leaking tab: the whole history resent every turn.
  for (let t = 0; t < 8; t++) {
    out.push(
      ev(i++, {
        user_id: 'carol',
        team: 'web',
        feature_name: 'assistant',
        model_used: 'gpt-4.1',
        input_tokens: 2000 * (t + 1),
        output_tokens: 100,
        session_id: 'leaky-tab',
      }),
    );
  }
  for (let t = 0; t < 6; t++) {
    out.push(
      ev(i++, {
        user_id: 'carol',
        team: 'web',
        feature_name: 'assistant',
        model_used: 'gpt-4.1',
        input_tokens: 900 + (t % 2) * 50,
        output_tokens: 80,
        session_id: 'steady-tab',
      }),
    );
  }
  return out;
}

function load(events: AuditEvent[]) {
  const db = new Database(':memory:');
  const rollups = createSqliteRollups(db);
  db.transaction(() => rollups.applyRollups(events.slice(0, 7)))();
  db.transaction(() => rollups.applyRollups(events.slice(7)))();
  return sqliteRollupReader(rollups);
}

describe('costReport', () => {
  const events = traffic();
  const rollups = load(events);
  const window = { sinceMs: DAY - 86_400_000 * 30, untilMs: DAY + 86_400_000 };
  const sumCost = events.reduce((s, e) => s + (e.cost_micro_usd ?? 0), 0);

  it.each(COST_REPORT_BY)('totals by %s equal the sum of the events to the micro-dollar', async (by) => {
    const r = await costReport(rollups, { by, ...window });
    // Requests without a session are the `(none)` row of the session report: every grouping totals the same.
    const scope = events;
    expect(r.totals.cost_micro_usd).toBe(scope.reduce((s, e) => s + (e.cost_micro_usd ?? 0), 0));
    expect(r.totals.requests).toBe(scope.length);
    expect(r.totals.unpriced_requests).toBe(scope.filter((e) => e.cost_micro_usd === null).length);
    expect(r.totals.input_tokens).toBe(scope.reduce((s, e) => s + (e.input_tokens ?? 0), 0));
    expect(r.totals.estimated_requests).toBe(1);
    expect(r.totals.estimated_input_tokens + r.totals.reported_input_tokens).toBe(r.totals.input_tokens);
    expect(r.totals.estimated_input_tokens).toBe(
      events.find((e) => e.usage_source === 'estimated')!.input_tokens,
    );
  });

  it('counts unpriced models as unpriced, not as zero, and shares add up', async () => {
    const r = await costReport(rollups, { by: 'model', ...window });
    const finetune = r.rows.find((x) => x.key === 'my-finetune')!;
    expect(finetune).toMatchObject({ cost_micro_usd: 0, unpriced_requests: 1, requests: 1 });
    expect(finetune.share).toBe(0);
    expect(r.rows.reduce((s, x) => s + (x.share ?? 0), 0)).toBeCloseTo(1, 12);
    expect(r.totals.cost_micro_usd).toBe(sumCost);
  });

  it('keeps the dearest models and folds the rest into one `other` row: a client inventing a model per request cannot grow the report', async () => {
    const invented = Array.from({ length: 300 }, (_, i) =>
      ev(1000 + i, { model_used: `invented-${i}`, input_tokens: 10, output_tokens: 1 }),
    );
    const all = [...events, ...invented];
    const r = await costReport(load(all), { by: 'model', ...window });
    expect(r.rows).toHaveLength(MAX_MODEL_ROWS);
    // The priced models keep their rows; the unpriced inventions are folded.
    for (const model of ['gpt-4.1-2025-04-14', 'claude-sonnet-4-5'])
      expect(r.rows.map((x) => x.key)).toContain(model);
    const other = r.rows.find((x) => x.key === OTHER_MODELS)!;
    expect(other.requests).toBeGreaterThan(250);
    expect(r.totals.requests).toBe(all.length);
    expect(r.totals.cost_micro_usd).toBe(all.reduce((s, e) => s + (e.cost_micro_usd ?? 0), 0));
    expect(r.totals.unpriced_requests).toBe(all.filter((e) => e.cost_micro_usd === null).length);
  });

  it('puts events without a user under a null key', async () => {
    const r = await costReport(rollups, { by: 'user', ...window });
    expect(r.rows.map((x) => x.key)).toContain(null);
    expect(r.rows[0]!.key).toBe('carol');
  });

  it('flags the leaking session as the worst and not the steady one', async () => {
    const r = await costReport(rollups, { by: 'session', ...window });
    expect(r.worst_session).toBe('leaky-tab');
    const leak = r.rows.find((x) => x.key === 'leaky-tab')!.growth!;
    expect(leak).toMatchObject({
      first_input_tokens: 2000,
      last_input_tokens: 16_000,
      increases: 7,
      max_streak: 7,
      leaking: true,
      growth_ratio: 8,
    });
    expect(leak.tokens_per_request).toBe(2000);
    expect(r.rows.find((x) => x.key === 'steady-tab')!.growth!.leaking).toBe(false);
    expect(formatCostTable(r)).toMatch(/token leak: session leaky-tab grew from 2,000 to 16,000/);
  });

  it('by session: a page of the dearest sessions, the (none) row on the first page, the window totals on every page, and a cursor to the rest', async () => {
    const many = [
      ...events,
      ...Array.from({ length: 25 }, (_, i) =>
        ev(200 + i, {
          model_used: 'gpt-4.1-2025-04-14',
          input_tokens: 100 * (i + 1),
          output_tokens: 10,
          session_id: `bulk-${String(i).padStart(2, '0')}`,
        }),
      ),
    ];
    const source = load(many);
    const all = await costReport(source, { by: 'session', ...window, limit: 1000 });
    const sessions = all.rows.filter((x) => x.key !== null);
    expect(all.sessions).toMatchObject({ total: sessions.length, offset: 0, more: 0, next_cursor: null });
    const first = await costReport(source, { by: 'session', ...window, limit: 10 });
    expect(first.rows.slice(0, 10).map((x) => x.key)).toEqual(sessions.slice(0, 10).map((x) => x.key));
    expect(first.rows[10]!.key).toBeNull();
    expect(first.totals).toEqual(all.totals);
    expect(first.sessions).toMatchObject({ total: sessions.length, offset: 0, shown: 10, limit: 10 });
    expect(first.sessions!.more).toBe(sessions.length - 10);
    const table = formatCostTable(first);
    expect(table).toContain(`sessions 1-10 of ${sessions.length} by cost; TOTAL is the whole window's.`);
    expect(table).toContain(
      `${sessions.length - 10} more sessions: next page with --after ${first.sessions!.next_cursor}`,
    );
    const seen = first.rows.slice(0, 10).map((x) => x.key);
    let after = decodeSessionCursor(first.sessions!.next_cursor!);
    while (after) {
      const page = await costReport(source, { by: 'session', ...window, limit: 10, after });
      expect(page.rows.every((x) => x.key !== null)).toBe(true);
      expect(page.totals).toEqual(all.totals);
      expect(page.sessions!.offset).toBe(seen.length);
      seen.push(...page.rows.map((x) => x.key));
      after = page.sessions!.next_cursor ? decodeSessionCursor(page.sessions!.next_cursor) : null;
    }
    expect(seen).toEqual(sessions.map((x) => x.key));
    expect(JSON.parse(formatCostJson(first)).sessions).toEqual(first.sessions);
  });

  it('reports by day', async () => {
    const r = await costReport(rollups, { by: 'day', ...window });
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ key: '2026-01-20', cost_micro_usd: sumCost });
  });

  it('returns nothing outside the window', async () => {
    const r = await costReport(rollups, {
      by: 'user',
      sinceMs: DAY + 2 * 86_400_000,
      untilMs: DAY + 3 * 86_400_000,
    });
    expect(r.rows).toEqual([]);
    expect(r.totals.cost_micro_usd).toBe(0);
  });
});

describe('formatters', () => {
  const events = traffic();
  let report: CostReport;
  beforeAll(async () => {
    report = await costReport(load(events), {
      by: 'user',
      sinceMs: DAY - 86_400_000,
      untilMs: DAY + 86_400_000,
    });
  });

  it('formats micro-USD exactly', async () => {
    expect(formatMicroUsd(0)).toBe('0.000000');
    expect(formatMicroUsd(7004)).toBe('0.007004');
    expect(formatMicroUsd(1_234_567_890_123)).toBe('1,234,567.890123');
    expect(formatMicroUsd(-5)).toBe('-0.000005');
  });

  it('aligns the table columns', async () => {
    const lines = formatCostTable(report).split('\n');
    const header = lines[1]!;
    const costEnd = header.indexOf('cost_usd') + 'cost_usd'.length;
    for (const l of lines.slice(2, 2 + report.rows.length))
      expect(l.slice(costEnd - 1, costEnd)).toMatch(/\d/);
    expect(lines.some((l) => l.startsWith('TOTAL'))).toBe(true);
    expect(formatCostTable(report)).toMatch(/no price/);
    expect(formatCostTable(report)).toMatch(/estimated/);
  });

  it('JSON round-trips with integer micro-USD', async () => {
    const parsed = JSON.parse(formatCostJson(report)) as typeof report;
    expect(parsed.totals.cost_micro_usd).toBe(report.totals.cost_micro_usd);
    expect(Number.isInteger(parsed.totals.cost_micro_usd)).toBe(true);
  });

  it('CSV quotes and defuses formula-looking keys', async () => {
    const hostile = await costReport(
      load([
        ev(0, { user_id: '=HYPERLINK("http://x")', model_used: 'gpt-4.1', input_tokens: 10 }),
        ev(1, { user_id: 'a,b', model_used: 'gpt-4.1', input_tokens: 10 }),
      ]),
      { by: 'user', sinceMs: DAY - 86_400_000, untilMs: DAY + 86_400_000 },
    );
    const csv = formatCostCsv(hostile).split('\r\n');
    expect(csv[0]).toMatch(/^user,requests,/);
    expect(csv.some((l) => l.startsWith(`"'=HYPERLINK(""http://x"")"`))).toBe(true);
    expect(csv.some((l) => l.startsWith('"a,b",'))).toBe(true);
    expect(csv[csv.length - 1]).toMatch(/^TOTAL,2,/);
  });

  it('never lets a key inject control characters into the table', async () => {
    const r = await costReport(
      load([ev(0, { user_id: 'evil\u001b[2J\nTOTAL', model_used: 'gpt-4.1', input_tokens: 1 })]),
      {
        by: 'user',
        sinceMs: DAY - 86_400_000,
        untilMs: DAY + 86_400_000,
      },
    );
    expect(formatCostTable(r)).not.toMatch(/\u001b/);
    expect(
      formatCostTable(r)
        .split('\n')
        .filter((l) => l.startsWith('TOTAL')),
    ).toHaveLength(1);
  });
});
