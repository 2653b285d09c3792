/**
 * A lone surrogate in any field (one client request can carry one) must not blind `verify`: the
 * hash is over the well-formed string, which is what SQLite and PostgreSQL give back.
 */
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { canonicalEventJson, eventHash, wellFormedEventHash } from '../../src/integrity/canonical-json.js';
import { createChainer } from '../../src/integrity/hash-chain.js';
import { MemoryCheckpointStore } from '../../src/integrity/memory-checkpoint-store.js';
import { generateSigningKey } from '../../src/integrity/signing-key.js';
import { verifyChains } from '../../src/integrity/verify.js';
import { makeEventWellFormed } from '../../src/integrity/well-formed-event.js';
import type { EventStore } from '../../src/store/event-store.js';
import { PostgresEventStore } from '../../src/store/postgres/postgres-event-store.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { postgresService, uniqueName } from '../support/services.js';
import { sampleEvent } from './sample-events.js';

const pgService = await postgresService();

/** Events with lone high and low surrogates in free-text, id, header and list fields. */
function hostileEvents(): AuditEvent[] {
  const lone = ['x\ud800y', '\udfffz', 'end\ud83d', '\ud83d\ud83d\ude00', 'ok \u{1F600}'];
  return lone.map((s, i) => {
    const e = sampleEvent(i);
    e.prompt = `prompt ${s}`;
    e.response = s;
    e.user_agent = s;
    e.model_requested = `gpt-${s}`;
    e.user_id = s;
    e.error_message = s;
    e.threat_indicators = [s];
    e.redactions = [{ type: s, count: 1 }];
    return e;
  });
}

async function chainAndVerify(store: EventStore): Promise<void> {
  const events = hostileEvents();
  const chainer = createChainer({ chainId: 'gw-lone' });
  for (const e of events) chainer.link(e);
  // What leaves the chainer is what the store can hold: no lone surrogate anywhere.
  for (const e of events) expect(JSON.stringify(e)).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/);
  expect(events[0]!.prompt).toBe('prompt x\ufffdy');
  expect(events[3]!.prompt).toBe('prompt \ufffd\u{1F600}');
  expect(events[4]!.prompt).toBe('prompt ok \u{1F600}');
  await store.append(events);
  const stored: AuditEvent[] = [];
  for await (const e of store.iterateChain('gw-lone', 1, 100)) stored.push(e);
  expect(stored.map((e) => e.hash)).toEqual(events.map((e) => e.hash));
  for (const e of stored) expect(eventHash(e)).toBe(e.hash);
  const key = generateSigningKey('tollgate-test');
  const report = await verifyChains(store, new MemoryCheckpointStore(), [key.verifier()]);
  expect(report.first_damage).toBeNull();
  expect(report.ok).toBe(true);
}

describe('hash over well-formed Unicode', () => {
  it('hashes a lone surrogate as U+FFFD, the way UTF-8 stores it', () => {
    const raw = sampleEvent(1);
    raw.prompt = 'x\ud800y';
    const fixed = { ...raw, prompt: 'x\ufffdy' };
    expect(canonicalEventJson(raw)).toBe(canonicalEventJson(fixed));
    expect(eventHash(raw)).toBe(eventHash(fixed));
    expect(canonicalEventJson(raw)).not.toContain('\\ud800');
  });

  it("wellFormedEventHash (the chainer's one pass) rewrites and hashes as makeEventWellFormed + eventHash", () => {
    const odd = sampleEvent(9) as unknown as Record<string, unknown>;
    odd.extra_field = 'x'; // not schema v1: the slow (reference) path
    const infinite = sampleEvent(10);
    infinite.latency_ms = Number.POSITIVE_INFINITY;
    const laterSet = sampleEvent(11);
    laterSet.provider_key_id = 'k\ud800';
    for (const e of [...hostileEvents(), sampleEvent(12), odd as unknown as AuditEvent, laterSet]) {
      const a = structuredClone(e);
      const b = structuredClone(e);
      makeEventWellFormed(a);
      expect(wellFormedEventHash(b)).toBe(eventHash(a));
      expect(b).toEqual(a);
    }
    expect(() => wellFormedEventHash(infinite)).toThrow();
  });

  it('verifies events with lone surrogates after a SQLite round trip', async () => {
    const store = new SqliteEventStore(new Database(':memory:'));
    await chainAndVerify(store);
    await store.close();
  });

  describe.skipIf(!pgService.available)('PostgreSQL', () => {
    const schema = uniqueName('tg_lone');
    let store: PostgresEventStore | null = null;
    afterAll(async () => {
      if (store) {
        await store.close();
        const { default: pg } = await import('pg');
        const admin = new pg.Pool({ connectionString: pgService.url, max: 1 });
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.end();
      }
    });
    it('verifies events with lone surrogates after a PostgreSQL round trip', async () => {
      store = await PostgresEventStore.open({ url: pgService.url, schema });
      await chainAndVerify(store);
    });
  });
});
