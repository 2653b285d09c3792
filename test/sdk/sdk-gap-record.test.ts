/**
 * The SDK chains gap records as the gateway does (docs/integrity.md "Accounted gaps"): events its
 * writer could neither store nor spool are named by a record in the process's own chain, and a
 * process with a fixed instance id and a spool that dies holding events is accounted by a crash
 * gap at its next start. `tollgate verify` exits 0 with the accounted gaps, no deletion.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../src/integrity/signing-key.js';
import { createAuditor, type Auditor } from '../../src/sdk/index.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { SeqReservation } from '../../src/writer/seq-reservation.js';
import { cli } from '../support/run-cli.js';
import { SwitchableStore } from '../writer/switchable-store.js';
import { until } from '../support/until.js';

interface VerifyJson {
  chains: Array<{
    chain_id: string;
    damage: unknown;
    accounted_gaps: Array<{
      reason: string;
      first_seq: number;
      last_seq: number;
      count: number;
      record_seq: number;
    }>;
  }>;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(): { dir: string; db: string; store: SqliteEventStore } {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-sdk-gap-'));
  dirs.push(dir);
  const db = join(dir, 'tollgate.db');
  return { dir, db, store: new SqliteEventStore(openSqlite(db)) };
}

async function verify(db: string, dir: string): Promise<{ code: number; report: VerifyJson; out: string }> {
  const keys = join(dir, 'verifier.keys');
  if (!existsSync(keys)) writeFileSync(keys, generateSigningKey('tollgate-test').verifierKey + '\n');
  const r = await cli(['verify', '--db', db, '--keys', keys, '--json']);
  return { code: r.code, report: JSON.parse(r.out) as VerifyJson, out: r.out + r.err };
}

async function calls(auditor: Auditor, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await auditor.track({ provider: 'p', model: 'm' }, async () => 'ok');
}

describe('SDK gap records', () => {
  it('events lost while the store is down are chained as a gap record once it is back', async () => {
    const { dir, db, store } = setup();
    const sw = new SwitchableStore(store);
    const auditor = await createAuditor({
      store: sw,
      instanceId: 'sdk-gap',
      writer: { retryIntervalMs: 20 },
    });
    await calls(auditor, 2);
    await auditor.flush();
    sw.down = true;
    await calls(auditor, 3); // no spool: lost
    await auditor.flush();
    expect(auditor.stats().dropped).toBe(3);
    sw.down = false;
    // The retry finds the store back; the record is chained before the next event.
    await until('the writer finds the store back', () => auditor.stats().storeAvailable, 5_000, 5);
    await calls(auditor, 1);
    await auditor.close();
    const { code, report, out } = await verify(db, dir);
    expect(code, out).toBe(0);
    const chain = report.chains.find((c) => c.chain_id === 'sdk-gap')!;
    expect(chain.damage).toBeNull();
    // One coalesced gap (its reason depends on whether the flush or the queue met the outage first).
    expect(chain.accounted_gaps.map((g) => [g.first_seq, g.last_seq, g.count, g.record_seq])).toEqual([
      [3, 5, 3, 6],
    ]);
    expect(chain.accounted_gaps[0]!.reason).not.toBe('crash');
  });

  it('a process with a fixed id and a spool that dies holding events: the next one chains a crash gap', async () => {
    const { dir, db, store } = setup();
    const spool = { path: join(dir, 'sdk-spool.jsonl'), maxBytes: 1 };
    const sw = new SwitchableStore(store);
    const first = await createAuditor({
      store: sw,
      instanceId: 'sdk-crash',
      spool,
      writer: { retryIntervalMs: 60_000 },
    });
    await calls(first, 3);
    await first.flush();
    sw.down = true; // stays down: this process "dies" without closing
    await calls(first, 2);
    const second = await createAuditor({ store: new SwitchableStore(store), instanceId: 'sdk-crash', spool });
    await calls(second, 1);
    await second.close();
    const { code, report, out } = await verify(db, dir);
    expect(code, out).toBe(0);
    const chain = report.chains.find((c) => c.chain_id === 'sdk-crash')!;
    expect(chain.damage).toBeNull();
    // seq 1 reserved up to 1 + 1024; 3 stored: up to 1022 lost, the record right after.
    expect(
      chain.accounted_gaps.map((g) => [g.reason, g.first_seq, g.last_seq, g.count, g.record_seq]),
    ).toEqual([['crash', 4, 1025, 1022, 1026]]);
  });

  it('an exchange that ends after close() is not chained and does not move the settled mark (no false crash gap)', async () => {
    const { dir, db, store } = setup();
    const spool = { path: join(dir, 'sdk-spool.jsonl'), maxBytes: 1 << 20 };
    const first = await createAuditor({ store: new SwitchableStore(store), instanceId: 'sdk-late', spool });
    await calls(first, 2);
    // A call (a stream) that started before close() and finishes after it: the caller gets its
    // answer, its event is refused by the settled mark and counted as an audit error.
    let finish!: () => void;
    const ended = new Promise<void>((r) => (finish = r));
    const late = first.track({ provider: 'p', model: 'm' }, async () => {
      await ended;
      return 'late';
    });
    await first.close();
    finish();
    await expect(late).resolves.toBe('late');
    await until('the late call counted as an audit error', () => first.stats().auditErrors >= 1, 5_000, 5);
    expect(first.stats().auditErrors).toBe(1);
    expect(new SeqReservation({ path: `${spool.path}.mark`, chainId: 'sdk-late' }).previous).toEqual({
      reserved: 2,
    });
    const reopened = new SqliteEventStore(openSqlite(db));
    const second = await createAuditor({ store: reopened, instanceId: 'sdk-late', spool });
    await calls(second, 1);
    await second.close();
    const { code, report, out } = await verify(db, dir);
    expect(code, out).toBe(0);
    const chain = report.chains.find((c) => c.chain_id === 'sdk-late')!;
    expect(chain.damage).toBeNull();
    expect(chain.accounted_gaps).toEqual([]);
  });
});
