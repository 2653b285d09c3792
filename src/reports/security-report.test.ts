import { describe, expect, it } from 'vitest';
import { MemoryAlertStore } from '../alerting/memory-alert-store.js';
import { blankEvent, type AuditEvent } from '../core/audit-event.js';
import { ManualClock } from '../core/clock.js';
import { createDetectionEngine } from '../detection/detection-engine.js';
import { createDetectors } from '../detection/default-detectors.js';
import { openSqlite } from '../store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../store/sqlite/sqlite-event-store.js';
import { createSqliteRollups, sqliteRollupReader } from '../store/sqlite/sqlite-rollups.js';
import { formatSecurityReportJson, formatSecurityReportTable, securityReport } from './security-report.js';

const T0 = Date.UTC(2026, 1, 3, 10);

/** Traffic through the real engine: stuffing from one IP, a storm on one key, a secret, a leaking session. */
async function scenario() {
  const clock = new ManualClock(T0);
  // A real store: the report reads the rollups its appends keep.
  const db = openSqlite(':memory:');
  const store = new SqliteEventStore(db);
  const sqliteRollups = createSqliteRollups(db);
  store.addInTransactionHook((batch) => sqliteRollups.applyRollups(batch));
  const rollups = sqliteRollupReader(sqliteRollups);
  const alerts = new MemoryAlertStore();
  const engine = createDetectionEngine({
    detectors: createDetectors(),
    clock,
    onAlert: (a) => alerts.upsert(a),
  });
  const all: AuditEvent[] = [];
  let n = 0;
  const add = (over: Partial<AuditEvent>) => {
    const e = {
      ...blankEvent({ id: `ev-${++n}`, timestamp: new Date(clock.now()).toISOString(), source: 'gateway' }),
      auth_result: 'SUCCESS' as const,
      ...over,
    };
    engine.observe(e);
    all.push(e);
    clock.advance(1000);
  };
  for (let i = 0; i < 8; i++)
    add({
      status: 'AUTH_FAILED',
      auth_result: 'FAILED',
      api_key_id: `guess-${i}`,
      ip_address: '203.0.113.9',
    });
  for (let i = 0; i < 20; i++)
    add({
      api_key_id: 'k-storm',
      user_id: 'svc',
      model_used: 'gpt-4o',
      status: i % 4 === 0 ? 'SUCCESS' : 'SERVER_ERROR',
    });
  add({
    api_key_id: 'k-ok',
    user_id: 'ana',
    model_used: 'gpt-4o-mini',
    redactions: [
      { type: 'aws_access_key', count: 1 },
      { type: 'email', count: 2 },
    ],
  });
  for (let i = 0; i < 10; i++)
    add({
      api_key_id: 'k-ok',
      user_id: 'ana',
      session_id: 'sess-leak',
      model_used: 'gpt-4o-mini',
      input_tokens: 4000 + i * 3000,
      cost_micro_usd: 1000,
    });
  await store.append(all);
  await new Promise((r) => setImmediate(r));
  return { rollups, alerts, untilMs: clock.now() + 1 };
}

describe('security report', () => {
  it('aggregates auth failures, alerts, error rates, redactions, offenders and anomalous sessions', async () => {
    const { rollups, alerts, untilMs } = await scenario();
    const r = await securityReport({ rollups, alerts }, { sinceMs: T0, untilMs });
    expect(r.events).toBe(39);
    expect(r.auth_failures.total).toBe(8);
    expect(r.auth_failures.by_ip).toEqual([{ ip: '203.0.113.9', failures: 8, distinct_keys: 8 }]);
    expect(r.auth_failures.by_key).toHaveLength(8);
    expect(r.error_rates.by_key[0]).toEqual({ key: 'k-storm', requests: 20, failed: 15, rate: 0.75 });
    expect(r.error_rates.by_model.find((m) => m.model === 'gpt-4o-mini')).toEqual({
      model: 'gpt-4o-mini',
      requests: 11,
      failed: 0,
      rate: 0,
    });
    expect(r.redactions).toEqual([
      { type: 'email', hits: 2, events: 1 },
      { type: 'aws_access_key', hits: 1, events: 1 },
    ]);
    expect(r.alerts.by_rule.map((x) => x.rule_id).sort()).toEqual([
      'auth.repeated-failures',
      'content.secret-in-prompt',
      'errors.rate',
      'session.context-growth',
    ]);
    expect(r.alerts.by_severity.HIGH).toBe(2);
    expect(r.top_offenders[0]).toMatchObject({
      subject_kind: 'ip',
      subject: '203.0.113.9',
      max_severity: 'HIGH',
    });
    expect(r.anomalous_sessions).toEqual([
      expect.objectContaining({
        session_id: 'sess-leak',
        user_id: 'ana',
        events: 10,
        indicators: ['session.context-growth'],
      }),
    ]);
  });

  it('honours the time range, aligned outward to whole hours', async () => {
    const { rollups, alerts } = await scenario();
    const later = await securityReport(
      { rollups, alerts },
      { sinceMs: T0 + 60 * 60_000, untilMs: T0 + 2 * 60 * 60_000 },
    );
    expect(later.events).toBe(0);
    expect(later.alerts.total).toBe(0);
    // 10:30–10:45 covers the hour 10:00–11:00, where every event of the scenario lies.
    const inside = await securityReport(
      { rollups, alerts },
      { sinceMs: T0 + 30 * 60_000, untilMs: T0 + 45 * 60_000 },
    );
    expect([inside.since, inside.until, inside.resolution_ms]).toEqual([
      new Date(T0).toISOString(),
      new Date(T0 + 3_600_000).toISOString(),
      3_600_000,
    ]);
    expect(inside.events).toBe(39);
  });

  it('formats an aligned table and a JSON document', async () => {
    const { rollups, alerts, untilMs } = await scenario();
    const r = await securityReport({ rollups, alerts }, { sinceMs: T0, untilMs });
    const text = formatSecurityReportTable(r);
    expect(text).toContain('Authentication failures: 8');
    const lines = text.split('\n');
    const head = lines.findIndex((l) => l.startsWith('  RULE'));
    const col = lines[head]!.indexOf('ALERTS');
    for (const l of lines.slice(head + 1, head + 5)) expect(l.slice(col - 1, col)).toBe(' ');
    expect(JSON.parse(formatSecurityReportJson(r))).toEqual(r);
  });
});
