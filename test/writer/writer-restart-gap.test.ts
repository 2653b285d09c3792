/**
 * Gaps across a restart (docs/reliability.md "Crash", docs/integrity.md "Accounted gaps"), on a
 * real SQLite store behind a real gateway and mock provider:
 *  - a graceful stop while the store is down and the spool is full keeps the open gap in the gap
 *    journal; the next start chains its record (reason spool_full, exact range);
 *  - a process that dies holding events (simulated here by abandoning the writer with the store
 *    down) leaves its seq mark ahead of the stored head; the next start skips the reserved seqs
 *    and chains a crash gap record for them instead of reusing them.
 * `tollgate verify` then exits 0 with the accounted gap, and no lost id is reported as deleted.
 * The crash case runs on PostgreSQL too (the mark is per instance, in its data folder).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pgClient from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type TollgateGateway } from '../../src/app/create-gateway.js';
import { systemClock } from '../../src/core/clock.js';
import { generateSigningKey } from '../../src/integrity/signing-key.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { estimateUsage } from '../../src/pricing/token-estimate.js';
import { PassthroughPolicy } from '../../src/proxy/passthrough-policy.js';
import { createRedactor } from '../../src/redaction/redactor.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import type { EventStore } from '../../src/store/event-store.js';
import { openEventStore } from '../../src/store/open-event-store.js';
import { upstreamPolicy } from '../../src/upstream/upstream-policy.js';
import { DiskSpool } from '../../src/writer/disk-spool.js';
import { GapJournal } from '../../src/writer/gap-journal.js';
import { SeqReservation } from '../../src/writer/seq-reservation.js';
import { cli } from '../support/run-cli.js';
import { postgresService, uniqueName } from '../support/services.js';
import { SwitchableStore } from './switchable-store.js';

const CHAIN = 'gw-restart';
const pg = await postgresService();

interface VerifyJson {
  ok: boolean;
  chains: Array<{
    chain_id: string;
    damage: unknown;
    accounted_gaps: Array<{
      reason: string;
      first_seq: number;
      last_seq: number;
      count: number;
      at: string;
      record_seq: number;
    }>;
  }>;
}

let mock: MockProvider;
let upstream: string;
beforeAll(async () => {
  mock = new MockProvider({ record: false });
  upstream = await mock.listen();
});
afterAll(async () => mock.close());

async function start(
  dir: string,
  store: EventStore,
  opts: { journalPath?: string; log?: (msg: string) => void } = {},
): Promise<{ tg: TollgateGateway; url: string }> {
  const tg = await createGateway({
    config: {
      instanceId: CHAIN,
      provider: 'openai',
      bodyLimitBytes: 1 << 20,
      responseCaptureLimitBytes: 1 << 20,
      totalTimeoutMs: 5000,
      policy: 'fail-open',
      trustProxy: false,
    },
    upstreamUrl: upstream,
    upstreamPolicy: upstreamPolicy({ retry: { maxRetries: 0 } }),
    store,
    redactor: createRedactor(),
    estimateUsage,
    policy: new PassthroughPolicy(Buffer.from('test-fingerprint-secret')),
    clock: systemClock,
    writer: {
      maxQueue: 1000,
      batchSize: 16,
      // 1 byte: nothing fits, so events the store refuses are lost (spool full).
      spool: new DiskSpool(join(dir, `spool-${CHAIN}.jsonl`), 1),
      journal: new GapJournal(opts.journalPath ?? join(dir, `gaps-${CHAIN}.json`)),
      reservation: new SeqReservation({ path: join(dir, `chain-${CHAIN}.mark`), chainId: CHAIN, block: 64 }),
    },
    ...(opts.log ? { log: opts.log } : {}),
  });
  const url = await tg.gateway.listen(0, '127.0.0.1');
  return { tg, url };
}

/** Sends `n` chat requests one after the other; returns the event ids the client was given. */
async function send(url: string, n: number): Promise<Array<{ id: string; endedAtMs: number }>> {
  const out: Array<{ id: string; endedAtMs: number }> = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-0123456789abcdefghijkl' },
      body: JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `hello ${i}` }] }),
    });
    await res.text();
    expect(res.status).toBe(200);
    out.push({ id: res.headers.get('x-tollgate-event-id')!, endedAtMs: Date.now() });
  }
  return out;
}

/** `tollgate verify` with a verifier key file (no checkpoints are written here). */
async function verify(
  db: string,
  dir: string,
  json = true,
): Promise<{ code: number; out: string; err: string }> {
  const keys = join(dir, 'verifier.keys');
  if (!existsSync(keys)) writeFileSync(keys, generateSigningKey('tollgate-test').verifierKey + '\n');
  return cli(['verify', '--db', db, '--keys', keys, ...(json ? ['--json'] : [])]);
}

async function verifyJson(
  db: string,
  dir: string,
): Promise<{ code: number | null; report: VerifyJson; out: string }> {
  const r = await verify(db, dir);
  return { code: r.code, report: JSON.parse(r.out) as VerifyJson, out: r.out + r.err };
}

/**
 * A process that dies holding events (its writer abandoned with the store down forever, its gap
 * never closed, so nothing journaled): the next start skips its reserved seqs and chains a crash gap.
 */
async function crashAndRestart(dir: string, db: string, store: EventStore): Promise<void> {
  const first = new SwitchableStore(store);
  const run1 = await start(dir, first);
  const stored = await send(run1.url, 4);
  await run1.tg.writer.drain();
  first.down = true;
  const lost = await send(run1.url, 6);
  await run1.tg.gateway.close();

  const run2 = await start(dir, new SwitchableStore(store));
  await send(run2.url, 2);
  await run2.tg.close();

  const { code, report, out } = await verifyJson(db, dir);
  expect(code, out).toBe(0);
  const chain = report.chains.find((c) => c.chain_id === CHAIN)!;
  expect(chain.damage).toBeNull();
  expect(chain.accounted_gaps).toHaveLength(1);
  const gap = chain.accounted_gaps[0]!;
  // The first seq reserved up to 1 + 64 = 65; 4 are stored, so up to 61 events may be lost
  // (10 seqs were handed out): seqs 5..65, the record at 66.
  expect([gap.reason, gap.first_seq, gap.last_seq, gap.count, gap.record_seq]).toEqual([
    'crash',
    5,
    65,
    61,
    66,
  ]);
  const ids = new Set((await store.query({ order: 'asc' })).map((e) => e.id));
  expect(stored.every((s) => ids.has(s.id))).toBe(true);
  for (const l of lost) {
    expect(ids.has(l.id)).toBe(false);
    expect(l.endedAtMs).toBeGreaterThanOrEqual(Date.parse(gap.at));
  }
  expect(lost.length).toBeLessThanOrEqual(gap.count);
  const text = await verify(db, dir, false);
  expect(text.out).toMatch(/up to 61 events lost in a crash/);
}

describe('writer gaps across a restart', () => {
  it('a stop with the store down and the spool full: the journaled gap is chained at the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-restart-gap-'));
    const dbPath = join(dir, 'tollgate.db');
    const store = new SqliteEventStore(openSqlite(dbPath));
    try {
      const first = new SwitchableStore(store);
      const run1 = await start(dir, first);
      const stored = await send(run1.url, 5);
      await run1.tg.writer.drain();
      first.down = true;
      const lost = await send(run1.url, 7);
      await run1.tg.close();
      expect(run1.tg.writer.stats().dropped).toBe(7);
      expect(existsSync(join(dir, `gaps-${CHAIN}.json`))).toBe(true);

      const run2 = await start(dir, new SwitchableStore(store));
      const later = await send(run2.url, 3);
      await run2.tg.close();

      const { code, report, out } = await verifyJson(dbPath, dir);
      expect(code, out).toBe(0);
      const chain = report.chains.find((c) => c.chain_id === CHAIN)!;
      expect(chain.damage).toBeNull();
      // Exactly the lost range, with its reason: not a crash gap (the stop was clean).
      expect(
        chain.accounted_gaps.map((g) => [g.reason, g.first_seq, g.last_seq, g.count, g.record_seq]),
      ).toEqual([['spool_full', 6, 12, 7, 13]]);
      const rows = await store.query({ order: 'asc' });
      const ids = new Set(rows.map((e) => e.id));
      expect([...stored, ...later].every((s) => ids.has(s.id))).toBe(true);
      expect(lost.filter((l) => ids.has(l.id))).toEqual([]);
      // The lost events' seqs were not reused: the next event after the record is seq 14.
      expect(rows.filter((e) => e.chain_id === CHAIN).map((e) => e.seq)).toEqual([
        1, 2, 3, 4, 5, 13, 14, 15, 16,
      ]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a stop whose gap could not be journaled does not settle the mark: the next start chains a crash gap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-journal-fail-'));
    const dbPath = join(dir, 'tollgate.db');
    const store = new SqliteEventStore(openSqlite(dbPath));
    // A folder that does not exist: every journal write fails with ENOENT (a real I/O error).
    const journalPath = join(dir, 'missing', 'gaps.json');
    const logs: string[] = [];
    try {
      const first = new SwitchableStore(store);
      const run1 = await start(dir, first, { journalPath, log: (msg) => logs.push(msg) });
      await send(run1.url, 5);
      await run1.tg.writer.drain();
      first.down = true;
      const lost = await send(run1.url, 7);
      await run1.tg.close();
      expect(run1.tg.writer.gapsPersisted()).toBe(false);
      expect(logs).toContain('gap journal could not be written');
      // Not settled to the head (12): still the mark of the run's first block (1 + 64).
      expect(new SeqReservation({ path: join(dir, `chain-${CHAIN}.mark`), chainId: CHAIN }).previous).toEqual(
        { reserved: 65 },
      );

      const run2 = await start(dir, new SwitchableStore(store), { journalPath });
      await send(run2.url, 1);
      await run2.tg.close();
      const { code, report, out } = await verifyJson(dbPath, dir);
      expect(code, out).toBe(0);
      const chain = report.chains.find((c) => c.chain_id === CHAIN)!;
      expect(chain.damage).toBeNull();
      expect(chain.accounted_gaps.map((g) => [g.reason, g.first_seq, g.last_seq])).toEqual([
        ['crash', 6, 65],
      ]);
      const ids = new Set((await store.query({ order: 'asc' })).map((e) => e.id));
      expect(lost.filter((l) => ids.has(l.id))).toEqual([]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a process that dies holding events: the next start skips its reserved seqs and chains a crash gap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-crash-gap-'));
    const dbPath = join(dir, 'tollgate.db');
    const store = new SqliteEventStore(openSqlite(dbPath));
    try {
      await crashAndRestart(dir, dbPath, store);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!pg.available)('writer gaps across a restart on PostgreSQL', () => {
  it('a process that dies holding events: the crash gap is chained in the shared store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-crash-gap-pg-'));
    const url = `${pg.url}?schema=${uniqueName('tg_crash_gap')}`;
    const opened = await openEventStore(url);
    try {
      await crashAndRestart(dir, url, opened.store);
    } finally {
      await opened.store.close();
      await dropSchemaOf(url);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function dropSchemaOf(url: string): Promise<void> {
  const u = new URL(url);
  const schema = u.searchParams.get('schema')!;
  u.search = '';
  const admin = new pgClient.Pool({ connectionString: u.toString(), max: 1 });
  try {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.end();
  }
}
