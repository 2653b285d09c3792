/**
 * Disk full and read-only store (issue 12), through the whole app (`startTollgate`):
 *  - the process does not crash, and does not spin: the store is retried about once a second;
 *  - the policy applies: fail-open keeps serving and spools; fail-closed answers 503 with
 *    Retry-After and makes no upstream call;
 *  - the operator is told (a `store unavailable` log line; /healthz shows the store down);
 *  - accounting is exact: every acknowledged event is stored after recovery, or counted in a gap,
 *    and each gap is chained as a gap record that `tollgate verify` reports as an accounted gap.
 * Disk full is a real tiny tmpfs filled to the last byte; read-only is `chattr +i` on the database
 * and its WAL (chmod would not stop an open file descriptor). Both need root; without it the tests
 * say so and skip.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { DiskSpool } from '../../src/writer/disk-spool.js';
import { sampleEvent } from '../integrity/sample-events.js';
import { cli } from '../support/run-cli.js';
import { immutableSupported, setImmutable, sqliteFiles } from './support/immutable-files.js';
import { sendChat, type Sent } from './support/send-chat.js';
import { startApp, type App } from './support/start-app.js';
import { storedIds } from './support/stored-ids.js';
import { mountTinyTmpfs, tmpfsSupported } from './support/tiny-tmpfs.js';

interface Disk {
  /** Folder for the database, on the disk that will fail. */
  dir: string;
  break(db: string): void;
  repair(db: string): void;
  cleanup(db: string): void;
}

const CONDITIONS: Array<{ name: string; supported: () => boolean; make: () => Disk }> = [
  {
    name: 'disk full (tmpfs)',
    supported: tmpfsSupported,
    make: () => {
      const fs = mountTinyTmpfs(8 * 1024 * 1024);
      return { dir: fs.dir, break: () => fs.fill(), repair: () => fs.free(), cleanup: () => fs.unmount() };
    },
  },
  {
    name: 'read-only store (chattr +i)',
    supported: immutableSupported,
    make: () => {
      const dir = mkdtempSync(join(tmpdir(), 'tollgate-ro-'));
      return {
        dir,
        break: (db) => setImmutable(sqliteFiles(db), true),
        repair: (db) => setImmutable(sqliteFiles(db), false),
        cleanup: (db) => {
          setImmutable(sqliteFiles(db), false);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

async function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Sends traffic until the writer has noticed the broken disk (bounded), returning what was sent. */
async function driveUntilStoreDown(app: App, origin: string): Promise<Sent[]> {
  const sent: Sent[] = [];
  const deadline = Date.now() + 60_000;
  while (app.tg.writer.stats().storeAvailable && sent.length < 5_000 && Date.now() < deadline) {
    sent.push(...(await sendChat(origin, 20, 4)));
    await sleep(15); // let the writer flush (flush_delay_ms is 10)
  }
  expect(app.tg.writer.stats().storeAvailable, 'the writer never noticed the broken disk').toBe(false);
  return sent;
}

async function health(origin: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(`${origin}/healthz`);
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

/** Waits (bounded) until the writer stores again after the disk is repaired. */
async function waitStoreBack(app: App): Promise<void> {
  for (let i = 0; i < 200 && !app.tg.writer.stats().storeAvailable; i++) await sleep(50);
  expect(app.tg.writer.stats().storeAvailable, 'the store did not come back after the repair').toBe(true);
}

describe('disk full and read-only store', () => {
  let mock: MockProvider;
  let upstream: string;
  beforeAll(async () => {
    mock = new MockProvider();
    upstream = await mock.listen();
  });
  afterAll(async () => mock.close());

  for (const c of CONDITIONS) {
    const ok = c.supported();
    if (!ok) console.warn(`[disk] ${c.name}: not supported on this machine (needs root); skipped`);

    it.skipIf(!ok)(
      `${c.name}, fail-open, spool on a healthy disk: keeps serving, spools, replays; nothing lost`,
      async () => {
        const disk = c.make();
        const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-data-'));
        const db = join(disk.dir, 'tollgate.db');
        let app: App | null = null;
        try {
          app = await startApp({ db, dataDir, upstream, policy: 'fail-open' });
          const origin = app.tg.url;
          const sent: Sent[] = await sendChat(origin, 20);
          disk.break(db);
          sent.push(...(await driveUntilStoreDown(app, origin)));
          const during = await sendChat(origin, 50);
          sent.push(...during);
          expect(during.every((s) => s.status === 200)).toBe(true);
          const h = await health(origin);
          expect(h.status).toBe(200);
          expect(h.body).toMatchObject({ status: 'ok', store: 'down', events_dropped: 0 });
          // No spin: idle for 3 s, the store is retried about once a second.
          const errorsBefore = app.tg.writer.stats().storeErrors;
          await sleep(3_000);
          expect(app.tg.writer.stats().storeErrors - errorsBefore).toBeLessThanOrEqual(6);
          expect(app.logs.some((l) => l.includes('store unavailable'))).toBe(true);
          const spooledWhileDown = app.tg.writer.stats().spooled;
          expect(spooledWhileDown).toBeGreaterThanOrEqual(50);

          disk.repair(db);
          await waitStoreBack(app);
          sent.push(...(await sendChat(origin, 10)));
          const s = app.tg.writer.stats();
          expect(s.dropped).toBe(0);
          expect(app.tg.writer.gaps).toEqual([]);
          await app.tg.close();
          app = null;

          const acked = sent.filter((x) => x.status === 200 && x.eventId).map((x) => x.eventId!);
          const found = storedIds(db, acked);
          expect(acked.filter((id) => !found.has(id))).toEqual([]);
          const verify = await cli(['verify', '--db', db], { TOLLGATE_DATA_DIR: dataDir });
          expect(verify.code, verify.out).toBe(0);
          console.log(
            `[disk ${c.name} fail-open] requests=${sent.length} acked=${acked.length} spooled=${s.spooled} replayed=${s.replayed} dropped=${s.dropped} lost=0`,
          );
        } finally {
          await app?.tg.close();
          disk.cleanup(db);
          rmSync(dataDir, { recursive: true, force: true });
        }
      },
    );

    it.skipIf(!ok)(
      `${c.name}, fail-closed: 503 with Retry-After and no upstream call; no acknowledged success lost`,
      async () => {
        const disk = c.make();
        const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-data-'));
        const db = join(disk.dir, 'tollgate.db');
        let app: App | null = null;
        try {
          app = await startApp({ db, dataDir, upstream, policy: 'fail-closed' });
          const origin = app.tg.url;
          const sent: Sent[] = await sendChat(origin, 20);
          expect(sent.every((s) => s.status === 200)).toBe(true);
          disk.break(db);
          sent.push(...(await driveUntilStoreDown(app, origin)));
          const upstreamCalls = mock.requests.length;
          const refused = await sendChat(origin, 30);
          sent.push(...refused);
          expect(refused.map((r) => `${r.status} ${r.code} ${r.retryAfter}`)).toEqual(
            refused.map(() => '503 TG_ERR_AUDIT_UNAVAILABLE 5'),
          );
          expect(mock.requests.length - upstreamCalls, 'upstream called while the audit trail was down').toBe(
            0,
          );
          const h = await health(origin);
          expect(h.status).toBe(503);
          expect(h.body).toMatchObject({ status: 'degraded', store: 'down' });
          const errorsBefore = app.tg.writer.stats().storeErrors;
          await sleep(3_000);
          expect(app.tg.writer.stats().storeErrors - errorsBefore).toBeLessThanOrEqual(6);
          expect(app.logs.some((l) => l.includes('store unavailable'))).toBe(true);

          disk.repair(db);
          await waitStoreBack(app);
          const after = await sendChat(origin, 10);
          sent.push(...after);
          expect(after.every((s) => s.status === 200)).toBe(true);
          const s = app.tg.writer.stats();
          await app.tg.close();
          app = null;

          const acked = sent.filter((x) => x.status === 200 && x.eventId).map((x) => x.eventId!);
          const found = storedIds(db, acked);
          expect(
            acked.filter((id) => !found.has(id)),
            'acknowledged successes without an event',
          ).toEqual([]);
          const cut = sent.filter((x) => !x.complete).length;
          const verify = await cli(['verify', '--db', db], { TOLLGATE_DATA_DIR: dataDir });
          expect(verify.code, verify.out).toBe(0);
          console.log(
            `[disk ${c.name} fail-closed] requests=${sent.length} acked=${acked.length} refused-503=${sent.filter((x) => x.status === 503).length} cut=${cut} spooled=${s.spooled} dropped=${s.dropped} lost=0`,
          );
        } finally {
          await app?.tg.close();
          disk.cleanup(db);
          rmSync(dataDir, { recursive: true, force: true });
        }
      },
    );
  }

  it.skipIf(!tmpfsSupported())(
    'disk full with the spool on the same disk, fail-open: every lost event is counted in a chained gap record that verify accounts for',
    async () => {
      const disk = mountTinyTmpfs(8 * 1024 * 1024);
      const db = join(disk.dir, 'tollgate.db');
      let app: App | null = null;
      try {
        app = await startApp({ db, dataDir: disk.dir, upstream, policy: 'fail-open' });
        const origin = app.tg.url;
        const sent: Sent[] = await sendChat(origin, 20);
        disk.fill();
        sent.push(...(await driveUntilStoreDown(app, origin)));
        const during = await sendChat(origin, 60);
        sent.push(...during);
        expect(during.every((s) => s.status === 200)).toBe(true);
        disk.free();
        await waitStoreBack(app);
        sent.push(...(await sendChat(origin, 10)));
        await app.tg.writer.drain();
        const s = app.tg.writer.stats();
        const gaps = [...app.tg.writer.gaps];
        const gapLogs = app.logs.filter((l) => l.includes('audit gap')).length;
        const checkpointsBefore = app.tg.checkpointWriter.getStats();
        await app.tg.close();
        app = null;

        const acked = sent.filter((x) => x.status === 200 && x.eventId).map((x) => x.eventId!);
        const found = storedIds(db, acked);
        const lost = acked.filter((id) => !found.has(id)).length;
        const gapCount = gaps.reduce((n, g) => n + g.count, 0);
        // Exact accounting: what is missing is what the gap records say, no more, no less.
        expect(lost).toBe(s.dropped);
        expect(gapCount).toBe(s.dropped);
        expect(gapLogs).toBe(gaps.length);
        expect(lost).toBeGreaterThan(0);
        // Consecutive lost events coalesce: a handful of gaps (one per run of seqs), not one per event.
        expect(
          gaps.length,
          `gaps: ${JSON.stringify(gaps.map((g) => [g.first_seq, g.last_seq]))}`,
        ).toBeLessThanOrEqual(3);
        expect(s.gapsUnrecorded).toBe(0);
        // Checkpointing went on past the gap rather than stopping at it.
        expect(checkpointsBefore.treeSize).toBeGreaterThan(Math.max(...gaps.map((g) => g.last_seq ?? 0)));
        // Each gap is chained as a gap record: verify reports accounted gaps (exit 0, with a warning
        // naming them), exit 1 with --strict, and --json carries them.
        const env = { TOLLGATE_DATA_DIR: disk.dir };
        const verify = await cli(['verify', '--db', db], env);
        expect(verify.code, verify.out).toBe(0);
        const lines = verify.out.split('\n').filter((l) => l.includes('accounted gap:'));
        expect(lines).toHaveLength(gaps.length);
        expect(
          lines.reduce(
            (n, l) =>
              n + Number(/accounted gap: (\d+) events? not stored \(spool_full\)/.exec(l)?.[1] ?? NaN),
            0,
          ),
        ).toBe(s.dropped);
        const json = await cli(['verify', '--db', db, '--json'], env);
        const report = JSON.parse(json.out) as {
          ok: boolean;
          events_not_stored: number;
          chains: Array<{
            accounted_gaps: Array<{ first_seq: number; last_seq: number; count: number }>;
            tree_size: number;
          }>;
        };
        expect(report.ok).toBe(true);
        expect(report.events_not_stored).toBe(s.dropped);
        expect(
          report.chains.flatMap((c) => c.accounted_gaps).map((g) => [g.first_seq, g.last_seq, g.count]),
        ).toEqual(gaps.map((g) => [g.first_seq, g.last_seq, g.count]));
        const strict = await cli(['verify', '--db', db, '--strict'], env);
        expect(strict.code).toBe(1);
        console.log(
          `[disk full, spool on the same disk, fail-open] requests=${sent.length} acked=${acked.length} spooled=${s.spooled} replayed=${s.replayed} dropped=${s.dropped} gaps=${gaps.length} gap-count=${gapCount} missing-in-store=${lost} verify=accounted (exit 0; --strict 1)`,
        );
      } finally {
        await app?.tg.close();
        disk.unmount();
      }
    },
  );

  it.skipIf(!tmpfsSupported())(
    'stopped while the disk is still full (spool on the same disk): the gap is journaled and the next start chains it',
    async () => {
      const disk = mountTinyTmpfs(8 * 1024 * 1024);
      const db = join(disk.dir, 'tollgate.db');
      let app: App | null = null;
      try {
        app = await startApp({ db, dataDir: disk.dir, upstream, policy: 'fail-open' });
        const origin = app.tg.url;
        const sent: Sent[] = await sendChat(origin, 20);
        disk.fill();
        sent.push(...(await driveUntilStoreDown(app, origin)));
        sent.push(...(await sendChat(origin, 30)));
        // A graceful stop (SIGTERM) while nothing can be written: the open gap closes into the
        // journal, written in place in its file allocated at start.
        await app.tg.close();
        const dropped = app.tg.writer.stats().dropped;
        app = null;
        expect(dropped).toBeGreaterThan(0);
        disk.free();

        // The next start chains the gap's record before taking traffic; then more traffic.
        app = await startApp({ db, dataDir: disk.dir, upstream, policy: 'fail-open' });
        sent.push(...(await sendChat(app.tg.url, 10)));
        await app.tg.close();
        app = null;

        const acked = sent.filter((x) => x.status === 200 && x.eventId).map((x) => x.eventId!);
        const found = storedIds(db, acked);
        const lost = acked.filter((id) => !found.has(id)).length;
        expect(lost).toBe(dropped);
        const env = { TOLLGATE_DATA_DIR: disk.dir };
        const json = await cli(['verify', '--db', db, '--json'], env);
        expect(json.code, json.out).toBe(0);
        const report = JSON.parse(json.out) as {
          chains: Array<{ damage: unknown; accounted_gaps: Array<{ reason: string; count: number }> }>;
        };
        expect(report.chains.filter((c) => c.damage !== null)).toEqual([]);
        const gaps = report.chains.flatMap((c) => c.accounted_gaps);
        // Exact: the journaled gap keeps its reason and count (a crash gap would only bound it).
        expect(gaps.map((g) => g.reason)).not.toContain('crash');
        expect(gaps.reduce((n, g) => n + g.count, 0)).toBe(dropped);
        console.log(
          `[disk full, stopped before recovery] acked=${acked.length} dropped=${dropped} missing-in-store=${lost} gaps=${gaps.length} (${gaps.map((g) => `${g.reason}:${g.count}`).join(',')}) verify=accounted (exit 0)`,
        );
      } finally {
        await app?.tg.close();
        disk.unmount();
      }
    },
  );

  it.skipIf(!tmpfsSupported())(
    'a spool write cut short by a full disk keeps whole lines only and says how many it kept',
    () => {
      const disk = mountTinyTmpfs(256 * 1024);
      try {
        const spool = new DiskSpool(join(disk.dir, 'spool.jsonl'), 10 * 1024 * 1024);
        const big = (i: number) => ({ ...sampleEvent(i), prompt: 'p'.repeat(900) });
        expect(spool.append([big(0)])).toBe(1);
        disk.fill(); // the spool's last page still has room for about two more lines
        let kept = 0;
        let threw = false;
        try {
          kept = spool.append([1, 2, 3, 4, 5, 6, 7, 8].map(big));
        } catch {
          threw = true;
        }
        const { events, corrupt } = spool.read();
        expect(corrupt).toBe(0);
        expect(events.length).toBe(1 + kept);
        expect(threw || kept < 8).toBe(true);
        expect(spool.size()).toBe(
          events.reduce((n, e) => {
            const json = JSON.stringify(e);
            return n + Buffer.byteLength(json) + 18;
          }, 0),
        );
        spool.close();
      } finally {
        disk.unmount();
      }
    },
  );
});
