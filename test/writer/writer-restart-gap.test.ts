/**
 * Gaps across a restart (docs/reliability.md "Crash", docs/integrity.md "Accounted gaps"), on a
 * real SQLite store behind a real gateway and mock provider:
 *  - a graceful stop while the store is down and the spool is full keeps the open gap in the gap
 *    journal; the next start chains its record (reason spool_full, exact range);
 *  - a process that dies holding events (simulated here by abandoning the writer with the store
 *    down) leaves its seq mark ahead of the stored head; the next start skips the reserved seqs
 *    and chains a crash gap record for them instead of reusing them.
 * `tollgate verify` then exits 0 with the accounted gap, and no lost id is reported as deleted.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
import { upstreamPolicy } from '../../src/upstream/upstream-policy.js';
import { DiskSpool } from '../../src/writer/disk-spool.js';
import { GapJournal } from '../../src/writer/gap-journal.js';
import { SeqReservation } from '../../src/writer/seq-reservation.js';
import { cli } from '../support/run-cli.js';
import { SwitchableStore } from './switchable-store.js';

const CHAIN = 'gw-restart';

interface VerifyJson {
  ok: boolean;
  chains: Array<{ chain_id: string; damage: unknown; accounted_gaps: Array<{ reason: string; first_seq: number; last_seq: number; count: number; at: string; record_seq: number }> }>;
}

let mock: MockProvider;
let upstream: string;
beforeAll(async () => {
  mock = new MockProvider({ record: false });
  upstream = await mock.listen();
});
afterAll(async () => mock.close());

async function start(dir: string, store: SwitchableStore): Promise<{ tg: TollgateGateway; url: string }> {
  const tg = await createGateway({
    config: { instanceId: CHAIN, provider: 'openai', bodyLimitBytes: 1 << 20, responseCaptureLimitBytes: 1 << 20, totalTimeoutMs: 5000, policy: 'fail-open', trustProxy: false },
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
      journal: new GapJournal(join(dir, `gaps-${CHAIN}.json`)),
      reservation: new SeqReservation({ path: join(dir, `chain-${CHAIN}.mark`), chainId: CHAIN, block: 64 }),
    },
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
async function verify(db: string, json = true): Promise<{ code: number; out: string; err: string }> {
  const keys = join(dirname(db), 'verifier.keys');
  if (!existsSync(keys)) writeFileSync(keys, generateSigningKey('tollgate-test').verifierKey + '\n');
  return cli(['verify', '--db', db, '--keys', keys, ...(json ? ['--json'] : [])]);
}

async function verifyJson(db: string): Promise<{ code: number | null; report: VerifyJson; out: string }> {
  const r = await verify(db);
  return { code: r.code, report: JSON.parse(r.out) as VerifyJson, out: r.out + r.err };
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

      const { code, report, out } = await verifyJson(dbPath);
      expect(code, out).toBe(0);
      const chain = report.chains.find((c) => c.chain_id === CHAIN)!;
      expect(chain.damage).toBeNull();
      // Exactly the lost range, with its reason: not a crash gap (the stop was clean).
      expect(chain.accounted_gaps.map((g) => [g.reason, g.first_seq, g.last_seq, g.count, g.record_seq])).toEqual([['spool_full', 6, 12, 7, 13]]);
      const rows = await store.query({ order: 'asc' });
      const ids = new Set(rows.map((e) => e.id));
      expect([...stored, ...later].every((s) => ids.has(s.id))).toBe(true);
      expect(lost.filter((l) => ids.has(l.id))).toEqual([]);
      // The lost events' seqs were not reused: the next event after the record is seq 14.
      expect(rows.filter((e) => e.chain_id === CHAIN).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 13, 14, 15, 16]);
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
      const first = new SwitchableStore(store);
      const run1 = await start(dir, first);
      const stored = await send(run1.url, 4);
      await run1.tg.writer.drain();
      // The store stops taking writes and the process "dies": its writer is abandoned (its store
      // stays down forever), its gap never closes, so nothing is journaled.
      first.down = true;
      const lost = await send(run1.url, 6);
      await run1.tg.gateway.close();

      const run2 = await start(dir, new SwitchableStore(store));
      await send(run2.url, 2);
      await run2.tg.close();

      const { code, report, out } = await verifyJson(dbPath);
      expect(code, out).toBe(0);
      const chain = report.chains.find((c) => c.chain_id === CHAIN)!;
      expect(chain.damage).toBeNull();
      expect(chain.accounted_gaps).toHaveLength(1);
      const gap = chain.accounted_gaps[0]!;
      // The first seq reserved up to 1 + 64 = 65; 4 are stored, so up to 61 events may be lost
      // (10 seqs were handed out): seqs 5..65, the record at 66.
      expect([gap.reason, gap.first_seq, gap.last_seq, gap.count, gap.record_seq]).toEqual(['crash', 5, 65, 61, 66]);
      const ids = new Set((await store.query({ order: 'asc' })).map((e) => e.id));
      expect(stored.every((s) => ids.has(s.id))).toBe(true);
      for (const l of lost) {
        expect(ids.has(l.id)).toBe(false);
        expect(l.endedAtMs).toBeGreaterThanOrEqual(Date.parse(gap.at));
      }
      expect(lost.length).toBeLessThanOrEqual(gap.count);
      const text = await verify(dbPath, false);
      expect(text.out).toMatch(/up to 61 events lost in a crash/);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
