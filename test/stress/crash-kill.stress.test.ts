/**
 * Crash safety (issue 12): `tollgate serve` is SIGKILLed at random moments under concurrent load,
 * many times, on one SQLite store. After every kill the store opens again, `tollgate verify` passes,
 * and:
 *  - fail-closed: every 2xx response the client received whole has its event in the store;
 *  - fail-open: what is missing is measured, and it is only the tail the writer had not flushed
 *    when the process died (docs/reliability.md states this promise and the numbers); after a
 *    restart a crash gap record accounts for it (verify exit 0, no deletion, every missing id
 *    answered after the gap's start).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { cli } from '../support/run-cli.js';
import { LoadDriver } from './support/load-driver.js';
import { seededRandom, stressSeed } from './support/seeded-random.js';
import { startServe } from './support/serve-process.js';
import { immutableSupported, setImmutable, sqliteFiles } from './support/immutable-files.js';
import { storedCount, storedIds } from './support/stored-ids.js';
import { stressProfile } from './support/stress-profile.js';

const profile = stressProfile();
const seed = stressSeed();

interface Round {
  completed2xx: number;
  missing: number;
  /** Oldest missing response, ms before the kill (0 when none is missing). */
  oldestMissingMs: number;
}

describe(`crash safety: SIGKILL under load (${profile.name}: ${profile.kills} kills per policy, seed ${seed})`, () => {
  let mock: MockProvider;
  let upstream: string;
  beforeAll(async () => {
    mock = new MockProvider({ record: false, chunkDelayMs: 1 });
    upstream = await mock.listen();
  });
  afterAll(async () => mock.close());

  for (const policy of ['fail-closed', 'fail-open'] as const) {
    it(`${policy}: the store reopens and verifies after every kill; ${policy === 'fail-closed' ? 'no acknowledged success is lost' : 'only the unflushed tail is lost'}`, async () => {
      const random = seededRandom(seed + (policy === 'fail-open' ? 1 : 0));
      const dir = mkdtempSync(join(tmpdir(), `tollgate-crash-${policy}-`));
      const db = join(dir, 'data', 'tollgate.db');
      const rounds: Round[] = [];
      const crashGaps: Array<{ missing: number; upTo: number }> = [];
      try {
        for (let k = 0; k < profile.kills; k++) {
          const serve = await startServe({ db, upstream, env: { TOLLGATE_FAILURE_POLICY: policy } });
          const load = new LoadDriver(serve.url, 8);
          // Let traffic start, then kill at a random moment within the next 1.5 s.
          const warm = Date.now() + 10_000;
          while (load.completed.length < 5 && Date.now() < warm) await sleep(10);
          await sleep(50 + Math.floor(random() * 1500));
          const killedAt = performance.now();
          const code = await serve.stop('SIGKILL');
          await load.stop();
          expect(code).toBeNull(); // it died of the signal, not of something else first

          // The store opens and the chain verifies (a torn tail would be reported here).
          const verify = await cli(['verify', '--db', db]);
          expect(verify.code, `verify after kill ${k}: ${verify.out}${verify.err}`).toBe(0);

          const ok = load.completed.filter((c) => c.status >= 200 && c.status < 300);
          const found = storedIds(
            db,
            ok.map((c) => c.eventId),
          );
          const missing = ok.filter((c) => !found.has(c.eventId));
          rounds.push({
            completed2xx: ok.length,
            missing: missing.length,
            oldestMissingMs: missing.length
              ? Math.round(killedAt - Math.min(...missing.map((m) => m.endedAt)))
              : 0,
          });
          if (policy === 'fail-closed') {
            expect(
              missing.map((m) => m.eventId),
              `kill ${k}: acknowledged successes without an event`,
            ).toEqual([]);
          } else {
            // fail-open promises the queue is flushed within writer.flush_delay_ms (10 ms): anything
            // missing must have been answered just before the kill. 5 s is a generous bound for a
            // loaded CI machine; the measured figure is printed below.
            for (const m of missing) expect(killedAt - m.endedAt).toBeLessThan(5_000);
            // Restart: the seqs the killed process had reserved are skipped (never reused for new
            // events) and named by a crash gap record, so verify accounts for the lost tail instead
            // of calling it deleted, and every answered id is stored or inside that gap.
            const again = await startServe({ db, upstream, env: { TOLLGATE_FAILURE_POLICY: policy } });
            expect(await again.stop('SIGTERM')).toBe(0);
            const after = await cli(['verify', '--db', db, '--json']);
            expect(after.code, `verify after restart ${k}: ${after.out}${after.err}`).toBe(0);
            const report = JSON.parse(after.out) as VerifyJson;
            expect(report.chains.filter((c) => c.damage !== null)).toEqual([]);
            const crashes = report.chains
              .flatMap((c) => c.accounted_gaps)
              .filter((g) => g.reason === 'crash');
            // Every kill leaves one crash gap (the mark is always ahead of the last seq handed out).
            expect(crashes.length).toBe(k + 1);
            const latest = crashes.reduce((a, b) => (b.record_seq > a.record_seq ? b : a));
            for (const m of missing)
              expect(
                m.endedAtMs,
                `event ${m.eventId} answered before the crash gap starts`,
              ).toBeGreaterThanOrEqual(Date.parse(latest.at));
            crashGaps.push({ missing: missing.length, upTo: latest.count });
          }
        }
        // One last clean start: the store still opens after the final kill, and the chain is whole.
        const last = await startServe({ db, upstream, env: { TOLLGATE_FAILURE_POLICY: policy } });
        expect(await last.stop('SIGTERM')).toBe(0);
        const verify = await cli(['verify', '--db', db]);
        expect(verify.code).toBe(0);
        const total2xx = rounds.reduce((n, r) => n + r.completed2xx, 0);
        const totalMissing = rounds.reduce((n, r) => n + r.missing, 0);
        console.log(
          `[crash ${policy}] kills=${rounds.length} 2xx=${total2xx} missing=${totalMissing} ` +
            `max-missing-per-kill=${Math.max(...rounds.map((r) => r.missing))} ` +
            `oldest-missing-ms=${Math.max(...rounds.map((r) => r.oldestMissingMs))} stored=${storedCount(db)} ` +
            `per-kill-missing=[${rounds.map((r) => r.missing).join(',')}]` +
            (crashGaps.length
              ? ` crash-gaps(missing/up-to)=[${crashGaps.map((c) => `${c.missing}/${c.upTo}`).join(',')}]`
              : ''),
        );
        expect(total2xx).toBeGreaterThan(rounds.length * 5);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe(`crash safety: SIGKILL while the store is read-only and fail-open spools (${profile.spoolKills} kills)`, () => {
  const canFreeze = immutableSupported();
  let mock: MockProvider;
  let upstream: string;
  beforeAll(async () => {
    mock = new MockProvider({ record: false, chunkDelayMs: 1 });
    upstream = await mock.listen();
  });
  afterAll(async () => mock.close());

  it.skipIf(!canFreeze)(
    'the spool survives the kill, is replayed on restart, and the chain continues after it',
    async () => {
      const random = seededRandom(seed + 2);
      const dir = mkdtempSync(join(tmpdir(), 'tollgate-crash-spool-'));
      const db = join(dir, 'data', 'tollgate.db');
      const env = { TOLLGATE_FAILURE_POLICY: 'fail-open' };
      let lostAtKill = 0;
      let spooledAcked = 0;
      let tornLines = 0;
      try {
        for (let k = 0; k < profile.spoolKills; k++) {
          const serve = await startServe({ db, upstream, env });
          const load = new LoadDriver(serve.url, 8);
          await sleep(300);
          // The disk turns read-only under the running store: new events must go to the spool.
          setImmutable(sqliteFiles(db), true);
          const frozenAt = load.completed.length;
          await sleep(200 + Math.floor(random() * 800));
          // Still alive on a read-only disk (no crash), then killed.
          expect(serve.proc.exitCode ?? serve.proc.signalCode).toBeNull();
          const killedAt = performance.now();
          await serve.stop('SIGKILL');
          await load.stop();
          setImmutable(sqliteFiles(db), false);

          // Restart: the spool is replayed before traffic, and new events continue the chain after it.
          const again = await startServe({ db, upstream, env });
          const after = new LoadDriver(again.url, 4, 200);
          await sleep(500);
          await after.stop();
          expect(await again.stop('SIGTERM')).toBe(0);
          // The store took the replay and the new traffic; a spool line torn by the kill may only
          // show up as a reported spool_corrupt gap, never as silence or a store failure.
          expect(again.log()).not.toMatch(/store unavailable/);
          for (const line of again
            .log()
            .split('\n')
            .filter((l) => l.includes('audit gap'))) {
            const gap = (JSON.parse(line) as { gap: { reason: string; count: number } }).gap;
            expect(gap.reason).toBe('spool_corrupt');
            tornLines += gap.count;
          }

          const verify = await cli(['verify', '--db', db]);
          expect(verify.code, `verify after spool kill ${k}: ${verify.out}`).toBe(0);
          const ok = load.completed.filter((c) => c.status < 300);
          const found = storedIds(
            db,
            ok.map((c) => c.eventId),
          );
          const missing = ok.filter((c) => !found.has(c.eventId));
          for (const m of missing) expect(killedAt - m.endedAt).toBeLessThan(5_000);
          lostAtKill += missing.length;
          spooledAcked += ok.length - frozenAt;
          // Everything served after the restart is stored (SIGTERM drains).
          const okAfter = after.completed.filter((c) => c.status < 300);
          expect(okAfter.length).toBeGreaterThan(0);
          const foundAfter = storedIds(
            db,
            okAfter.map((c) => c.eventId),
          );
          expect(okAfter.filter((c) => !foundAfter.has(c.eventId))).toEqual([]);
        }
        console.log(
          `[crash spool] kills=${profile.spoolKills} acked-while-read-only=${spooledAcked} missing-after-restart=${lostAtKill} torn-spool-lines-reported=${tornLines}`,
        );
        expect(spooledAcked).toBeGreaterThan(0);
      } finally {
        setImmutable(sqliteFiles(db), false);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
