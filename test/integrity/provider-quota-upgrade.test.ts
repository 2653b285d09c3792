/**
 * The provider-quota fields (issue 20) are added to stores written before they existed: the
 * migration adds the columns, the old events read back with them null and still verify (their
 * hash never covered the fields), and new events carry the readings under their hash.
 *
 * A store of the first release is made by writing events, then dropping the columns and setting
 * the events migration back to version 2, which is the table and the version row that release left.
 */
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { LATER_NULLABLE_FIELDS, type AuditEvent } from '../../src/core/audit-event.js';
import { canonicalize } from '../../src/integrity/canonical-json.js';
import { createChainer, hasValidHash, GENESIS_PREV_HASH } from '../../src/integrity/hash-chain.js';
import type { EventStore } from '../../src/store/event-store.js';
import { PostgresEventStore } from '../../src/store/postgres/postgres-event-store.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { postgresService, uniqueName } from '../support/services.js';
import { sampleEvent } from './sample-events.js';
import { createHash } from 'node:crypto';

const pgService = await postgresService();
const CHAIN = 'gw-upgrade';

/** Events linked as the first release linked them: its canonical form had no quota fields. */
function firstReleaseEvents(n: number): AuditEvent[] {
  const chainer = createChainer({ chainId: CHAIN });
  const out: AuditEvent[] = [];
  for (let i = 1; i <= n; i++) {
    const e = sampleEvent(i);
    chainer.link(e);
    const old = { ...e } as Record<string, unknown>;
    delete old.hash;
    for (const f of LATER_NULLABLE_FIELDS) delete old[f];
    // The hash the first release gave it (the canonicalize package over its fields).
    expect(e.hash).toBe(createHash('sha256').update(canonicalize(old)!, 'utf8').digest('hex'));
    out.push(e);
  }
  return out;
}

async function checkChain(store: EventStore): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for await (const e of store.iterateChain(CHAIN)) events.push(e);
  let prev = GENESIS_PREV_HASH;
  for (const e of events) {
    expect(hasValidHash(e), `seq ${e.seq}`).toBe(true);
    expect(e.prev_hash).toBe(prev);
    prev = e.hash!;
  }
  return events;
}

/** Appends an event with readings after the old ones; returns it as stored. */
async function appendWithQuota(store: EventStore, old: AuditEvent[]): Promise<void> {
  const last = old[old.length - 1]!;
  const chainer = createChainer({ chainId: CHAIN, head: { seq: last.seq!, hash: last.hash! } });
  const e = sampleEvent(old.length + 1);
  e.provider_requests_remaining = 4;
  e.provider_requests_limit = 500;
  e.provider_requests_reset = '2026-01-01T00:00:12.000Z';
  e.provider_tokens_remaining = 29_000;
  e.provider_tokens_limit = 30_000;
  e.provider_tokens_reset = null;
  e.provider_key_id = 'kf_provider';
  e.cache_write_tokens = 1500;
  e.audio_input_tokens = 900;
  e.image_input_tokens = 0;
  e.billing_unit = 'audio_second';
  e.billing_quantity = 12;
  e.unpriced_reason = 'the answer reported no usage';
  chainer.link(e);
  await store.append([e]);
}

async function expectUpgraded(store: EventStore, old: AuditEvent[]): Promise<void> {
  const before = await checkChain(store);
  expect(before).toHaveLength(old.length);
  for (const e of before) for (const f of LATER_NULLABLE_FIELDS) expect(e[f]).toBeNull();
  expect(before.map((e) => e.hash)).toEqual(old.map((e) => e.hash));
  await appendWithQuota(store, old);
  const after = await checkChain(store);
  expect(after).toHaveLength(old.length + 1);
  expect(after[old.length]).toMatchObject({
    cache_write_tokens: 1500,
    audio_input_tokens: 900,
    image_input_tokens: 0,
    billing_unit: 'audio_second',
    billing_quantity: 12,
    unpriced_reason: 'the answer reported no usage',
    provider_requests_remaining: 4,
    provider_requests_limit: 500,
    provider_requests_reset: '2026-01-01T00:00:12.000Z',
    provider_tokens_remaining: 29_000,
    provider_tokens_limit: 30_000,
    provider_tokens_reset: null,
    provider_key_id: 'kf_provider',
  });
}

describe('provider quota columns in a store of the first release', () => {
  it('SQLite: migrations 3 and 4 add them; old events read null and verify; new ones carry readings', async () => {
    const db = new Database(':memory:');
    const first = new SqliteEventStore(db);
    const old = firstReleaseEvents(5);
    await first.append(old);
    for (const f of LATER_NULLABLE_FIELDS) db.exec(`ALTER TABLE events DROP COLUMN ${f}`);
    db.prepare("UPDATE schema_migrations SET version = 2 WHERE component = 'events'").run();
    const cols = (db.prepare('PRAGMA table_info(events)').all() as Array<{ name: string }>).map(
      (c) => c.name,
    );
    expect(cols).not.toContain('provider_requests_remaining');

    const upgraded = new SqliteEventStore(db);
    const after = (db.prepare('PRAGMA table_info(events)').all() as Array<{ name: string }>).map(
      (c) => c.name,
    );
    for (const f of LATER_NULLABLE_FIELDS) expect(after).toContain(f);
    expect(db.prepare("SELECT version FROM schema_migrations WHERE component = 'events'").get()).toEqual({
      version: 8,
    });
    await expectUpgraded(upgraded, old);
    db.close();
  });

  describe.skipIf(!pgService.available)('PostgreSQL', () => {
    const schema = uniqueName('tg_quota_up');
    afterAll(async () => {
      const { default: pg } = await import('pg');
      const admin = new pg.Pool({ connectionString: pgService.url, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    });

    it('migrations 3, 4, 5 and 6 add them to every partition; old events read null and verify', async () => {
      const { default: pg } = await import('pg');
      const first = await PostgresEventStore.open({ url: pgService.url, schema });
      const old = firstReleaseEvents(5);
      await first.append(old);
      await first.close();
      const admin = new pg.Pool({ connectionString: pgService.url, max: 1 });
      try {
        for (const f of LATER_NULLABLE_FIELDS)
          await admin.query(`ALTER TABLE "${schema}".events DROP COLUMN ${f}`);
        await admin.query(`UPDATE "${schema}".schema_migrations SET version = 2 WHERE component = 'events'`);
        const upgraded = await PostgresEventStore.open({ url: pgService.url, schema });
        try {
          const { rows } = await admin.query(
            `SELECT version FROM "${schema}".schema_migrations WHERE component = 'events'`,
          );
          expect(rows[0].version).toBe(6);
          await expectUpgraded(upgraded, old);
        } finally {
          await upgraded.close();
        }
      } finally {
        await admin.end();
      }
    });
  });
});
