/**
 * Issue 5: the same traffic through the real gateway (the demo's: streams, a stream the provider
 * cuts, a client that gives up mid-stream, failures, an unpriced model) — the cost report's totals
 * equal the sum of the stored events to the micro-dollar, for every grouping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { cli } from '../support/run-cli.js';

describe('cost report totals equal the sum of the events', () => {
  let dir: string;
  let db: string;
  let events: AuditEvent[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-totals-'));
    db = join(dir, 'demo.db');
    expect((await cli(['demo', '--db', db, '--seconds', '1'])).code).toBe(0);
    events = (await cli(['events', '--db', db, '--json', '--limit', '10000'])).out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEvent);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has the interrupted streams and unpriced requests this test is about', () => {
    expect(events.some((e) => e.status === 'CANCELLED' && e.usage_source === 'estimated')).toBe(true);
    expect(
      events.some((e) => e.error_code === 'TG_ERR_UPSTREAM_STREAM_BROKEN' && e.usage_source === 'estimated'),
    ).toBe(true);
    expect(events.some((e) => e.cost_micro_usd === null && (e.input_tokens ?? 0) > 0)).toBe(true);
  });

  for (const by of ['user', 'session', 'feature', 'model', 'key', 'team', 'day']) {
    it(`--by ${by}: requests, tokens, cost and unpriced count match the events exactly`, async () => {
      const r = await cli(['report', 'cost', '--db', db, '--by', by, '--since', '1d', '--json']);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.out);
      const traffic = events.filter((e) => e.feature_name !== 'admin');
      const sum = (f: (e: AuditEvent) => number) => traffic.reduce((s, e) => s + f(e), 0);
      expect(report.totals.requests).toBe(traffic.length);
      expect(report.totals.cost_micro_usd).toBe(sum((e) => e.cost_micro_usd ?? 0));
      expect(report.totals.input_tokens).toBe(sum((e) => e.input_tokens ?? 0));
      expect(report.totals.output_tokens).toBe(sum((e) => e.output_tokens ?? 0));
      expect(report.totals.unpriced_requests).toBe(traffic.filter((e) => e.cost_micro_usd === null).length);
      const rowsCost = report.rows.reduce(
        (s: number, row: { cost_micro_usd: number }) => s + row.cost_micro_usd,
        0,
      );
      expect(rowsCost).toBe(report.totals.cost_micro_usd);
    });
  }

  it('--by session --top 2: pages of the dearest sessions, "N more sessions" with the cursor, --after to the end; the pages add up to the totals', async () => {
    const all = JSON.parse(
      (await cli(['report', 'cost', '--db', db, '--by', 'session', '--since', '1d', '--json'])).out,
    );
    expect(all.sessions).toMatchObject({ offset: 0, more: 0, limit: 100, next_cursor: null });
    const sessionKeys = all.rows
      .filter((r: { key: string | null }) => r.key !== null)
      .map((r: { key: string }) => r.key);
    expect(sessionKeys.length).toBeGreaterThan(2);
    const text = await cli(['report', 'cost', '--db', db, '--by', 'session', '--since', '1d', '--top', '2']);
    expect(text.code).toBe(0);
    expect(text.out).toContain(`sessions 1-2 of ${sessionKeys.length} by cost; TOTAL is the whole window's.`);
    expect(text.out).toMatch(
      new RegExp(`${sessionKeys.length - 2} more sessions: next page with --after [A-Za-z0-9_-]+`),
    );
    const seen: string[] = [];
    let cost = 0;
    let after: string | null = null;
    for (;;) {
      const args = [
        'report',
        'cost',
        '--db',
        db,
        '--by',
        'session',
        '--since',
        '1d',
        '--limit',
        '2',
        '--json',
      ];
      const r = await cli(after ? [...args, '--after', after] : args);
      expect(r.code).toBe(0);
      const page = JSON.parse(r.out);
      expect(page.totals).toEqual(all.totals);
      for (const row of page.rows as { key: string | null; cost_micro_usd: number }[]) {
        cost += row.cost_micro_usd;
        if (row.key !== null) seen.push(row.key);
      }
      after = page.sessions.next_cursor;
      if (!after) break;
    }
    expect(seen).toEqual(sessionKeys);
    expect(cost).toBe(all.totals.cost_micro_usd);
    // CSV stays one table: the next page goes to stderr.
    const csv = await cli([
      'report',
      'cost',
      '--db',
      db,
      '--by',
      'session',
      '--since',
      '1d',
      '--top',
      '2',
      '--csv',
    ]);
    expect(csv.out.trim().split('\r\n')).toHaveLength(1 + 2 + 1 + 1);
    expect(csv.err).toMatch(/more sessions: next page with --after/);
    for (const bad of [
      ['--by', 'user', '--top', '2'],
      ['--by', 'session', '--top', '0'],
      ['--by', 'session', '--top', 'ten'],
      ['--by', 'session', '--after', 'not a cursor'],
    ]) {
      const r = await cli(['report', 'cost', '--db', db, ...bad]);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.err).toMatch(/TG_ERR_USAGE/);
    }
  });
});
