/**
 * The contract every AlertStore passes (STYLE.md rule 8): memory and SQLite run the same suite.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Alert, Severity } from './alert.js';
import type { AlertStore } from './alert-store.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

/** A complete alert for tests; fields overridable. */
export function sampleAlert(over: Partial<Alert> = {}): Alert {
  return {
    id: '01900000-0000-7000-8000-000000000001',
    rule_id: 'auth.repeated-failures',
    severity: 'HIGH',
    subject: { kind: 'ip', value: '203.0.113.7' },
    title: 'Repeated failed authentication from ip 203.0.113.7',
    description: '5 failed authentications in 60 s',
    evidence: {
      event_ids: ['e1', 'e2'],
      evidence_truncated: false,
      figures: { observed: 5, baseline: null, threshold: 5, window_ms: 60_000, unit: 'failures' },
      peak_observed: 5,
    },
    first_seen: new Date(T0).toISOString(),
    last_seen: new Date(T0 + 1000).toISOString(),
    count: 1,
    status: 'open',
    acknowledged_by: null,
    acknowledged_at: null,
    deliveries: [],
    ...over,
  };
}

function alertAt(n: number, minutes: number, severity: Severity, rule = 'volume.spike'): Alert {
  return sampleAlert({
    id: `01900000-0000-7000-8000-00000000000${n}`,
    rule_id: rule,
    severity,
    first_seen: new Date(T0 + minutes * 60_000).toISOString(),
    last_seen: new Date(T0 + minutes * 60_000 + 30_000).toISOString(),
  });
}

/** Runs the AlertStore contract against stores made by `make` (a fresh, empty store per test). */
export function alertStoreContract(name: string, make: () => AlertStore | Promise<AlertStore>): void {
  describe(`AlertStore contract: ${name}`, () => {
    let store: AlertStore;
    beforeEach(async () => {
      store = await make();
    });

    it('stores and returns an alert unchanged', async () => {
      const a = sampleAlert();
      await store.upsert(a);
      expect(await store.get(a.id)).toEqual(a);
      expect(await store.get('nope')).toBeNull();
    });

    it('updates the incident fields on upsert but keeps acknowledgement and deliveries', async () => {
      const a = sampleAlert();
      await store.upsert(a);
      await store.acknowledge(a.id, 'alice', T0 + 5000);
      await store.recordDelivery(a.id, {
        sink: 'webhook',
        status: 'delivered',
        attempts: 1,
        last_error: null,
        updated_at: new Date(T0).toISOString(),
      });
      const later = sampleAlert({
        severity: 'CRITICAL',
        count: 7,
        last_seen: new Date(T0 + 60_000).toISOString(),
        evidence: { ...a.evidence, event_ids: ['e1', 'e2', 'e3'], peak_observed: 9 },
      });
      await store.upsert(later);
      const got = await store.get(a.id);
      expect(got?.count).toBe(7);
      expect(got?.severity).toBe('CRITICAL');
      expect(got?.evidence.event_ids).toEqual(['e1', 'e2', 'e3']);
      expect(got?.last_seen).toBe(later.last_seen);
      expect(got?.status).toBe('acknowledged');
      expect(got?.acknowledged_by).toBe('alice');
      expect(got?.acknowledged_at).toBe(new Date(T0 + 5000).toISOString());
      expect(got?.deliveries.map((d) => d.status)).toEqual(['delivered']);
    });

    it('replaces the delivery record of the same sink and keeps others', async () => {
      const a = sampleAlert();
      await store.upsert(a);
      const base = { attempts: 1, last_error: null, updated_at: new Date(T0).toISOString() };
      await store.recordDelivery(a.id, { ...base, sink: 'webhook', status: 'pending' });
      await store.recordDelivery(a.id, { ...base, sink: 'slack', status: 'failed', last_error: 'http_500' });
      await store.recordDelivery(a.id, { ...base, sink: 'webhook', status: 'delivered', attempts: 3 });
      const got = await store.get(a.id);
      const bySink = Object.fromEntries((got?.deliveries ?? []).map((d) => [d.sink, d]));
      expect(bySink['webhook']?.status).toBe('delivered');
      expect(bySink['webhook']?.attempts).toBe(3);
      expect(bySink['slack']?.last_error).toBe('http_500');
      await store.recordDelivery('unknown', { ...base, sink: 'webhook', status: 'delivered' });
    });

    it('acknowledging an unknown alert returns null', async () => {
      expect(await store.acknowledge('unknown', 'bob', T0)).toBeNull();
    });

    it('lists newest first, filtered by since, until, severity, rule, status and limit', async () => {
      await store.upsert(alertAt(1, 0, 'LOW'));
      await store.upsert(alertAt(2, 10, 'HIGH', 'auth.repeated-failures'));
      await store.upsert(alertAt(3, 20, 'CRITICAL'));
      await store.upsert(alertAt(4, 30, 'MEDIUM'));
      const ids = (as: Alert[]) => as.map((a) => a.id.slice(-1));
      expect(ids(await store.list())).toEqual(['4', '3', '2', '1']);
      expect(ids(await store.list({ sinceMs: T0 + 10 * 60_000 }))).toEqual(['4', '3', '2']);
      expect(ids(await store.list({ untilMs: T0 + 20 * 60_000 }))).toEqual(['2', '1']);
      expect(ids(await store.list({ minSeverity: 'HIGH' }))).toEqual(['3', '2']);
      expect(ids(await store.list({ ruleId: 'auth.repeated-failures' }))).toEqual(['2']);
      expect(ids(await store.list({ limit: 2 }))).toEqual(['4', '3']);
      await store.acknowledge('01900000-0000-7000-8000-000000000003', 'carol', T0);
      expect(ids(await store.list({ status: 'open' }))).toEqual(['4', '2', '1']);
    });

    it('returns copies: mutating a result does not change the store', async () => {
      await store.upsert(sampleAlert());
      const got = await store.get(sampleAlert().id);
      got!.evidence.event_ids.push('mutated');
      expect((await store.get(sampleAlert().id))?.evidence.event_ids).toEqual(['e1', 'e2']);
    });
  });
}
