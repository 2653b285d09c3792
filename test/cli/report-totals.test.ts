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
});
