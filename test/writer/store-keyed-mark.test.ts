/**
 * The seq mark and gap journal are named by the store as well as the instance
 * (docs/reliability.md "Crash", "One data folder, several stores"): two SQLite files in one data
 * folder share the instance id but not the mark, so a clean stop on a.db and a start on a new
 * b.db give b no crash gap, while a crash on a.db is still accounted on a.db's restart. Files of
 * an earlier version (named by instance only) are ignored, with one warning.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainStateFiles } from '../../src/app/chain-state-files.js';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate, type RunningTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { isGapRecord } from '../../src/integrity/gap-record.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { SeqReservation } from '../../src/writer/seq-reservation.js';
import { cli } from '../support/run-cli.js';

const INSTANCE = 'gw-shared';
let mock: MockProvider;
let upstream: string;
let dir: string;
beforeAll(async () => {
  mock = new MockProvider({ record: false });
  upstream = await mock.listen();
  dir = mkdtempSync(join(tmpdir(), 'tollgate-keyed-mark-'));
});
afterAll(async () => {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Captured {
  msg: string;
  files?: string[];
}

async function start(db: string, logs?: Captured[]): Promise<RunningTollgate> {
  const config = loadConfig({
    file: null,
    overrides: { db, port: 0, upstream_url: upstream, instance_id: INSTANCE },
  });
  // The real logger, its lines captured (warn and above).
  const log = logs
    ? pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line) as Captured) })
    : createLogger('silent');
  return startTollgate({ config, log });
}

async function send(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-0123456789abcdefghijkl' },
      body: JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `hello ${i}` }] }),
    });
    await res.text();
    expect(res.status).toBe(200);
  }
}

async function chainOf(tg: RunningTollgate): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for await (const e of tg.store.iterateChain(INSTANCE, 1, 10_000)) out.push(e);
  return out;
}

describe('seq mark and gap journal per store', () => {
  it('a clean stop on a.db gives a new b.db in the same folder no crash gap; a crash on a.db is still accounted on a.db', async () => {
    const a = join(dir, 'a.db');
    const b = join(dir, 'b.db');
    const aFiles = chainStateFiles(dir, INSTANCE, a);
    const bFiles = chainStateFiles(dir, INSTANCE, b);
    expect(aFiles.mark).not.toBe(bFiles.mark);
    expect(aFiles.journal).not.toBe(bFiles.journal);

    // a.db: 50 events, clean stop (its mark settled at 50).
    let tg = await start(a);
    await send(tg.url, 50);
    await tg.close();

    // b.db, a new store in the same folder: the chain starts at seq 1, no gap record.
    tg = await start(b);
    await send(tg.url, 3);
    await tg.writer.drain();
    const bChain = await chainOf(tg);
    expect(bChain.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(bChain.some(isGapRecord)).toBe(false);
    await tg.close();
    const strict = await cli(['verify', '--db', b, '--strict']);
    expect(strict.code, strict.out + strict.err).toBe(0);

    // a.db again, then a crash: the mark file as a killed process leaves it (ahead of the head)
    // is put back after the clean stop.
    tg = await start(a);
    await send(tg.url, 5);
    await tg.writer.drain();
    const crashed = join(dir, 'crashed.mark');
    copyFileSync(aFiles.mark, crashed);
    await tg.close();
    copyFileSync(crashed, aFiles.mark);

    tg = await start(a);
    await tg.writer.drain();
    const aChain = await chainOf(tg);
    await tg.close();
    const gaps = aChain.filter(isGapRecord);
    expect(gaps).toHaveLength(1);
    // 55 stored; the first seq of the run reserved 51 + 1024.
    expect(gaps[0]!.error_message).toMatch(/seq=56\.\.1075 count=1020 reason=crash/);
  }, 60_000);

  it('a mark or journal of an earlier version (no store in its name) is ignored, with one warning', async () => {
    const c = join(dir, 'c.db');
    // What the earlier version left after a crash on another store: read, it would be a crash gap here.
    const legacyMark = join(dir, `chain-${INSTANCE}.mark`);
    // Made by the real writer, under the old name.
    const r = new SeqReservation({ path: legacyMark, chainId: INSTANCE });
    r.start(0);
    r.ensure(1);
    r.close();
    expect(existsSync(legacyMark)).toBe(true);

    const logs: Captured[] = [];
    const tg = await start(c, logs);
    await send(tg.url, 2);
    await tg.writer.drain();
    const chain = await chainOf(tg);
    await tg.close();
    expect(chain.map((e) => e.seq)).toEqual([1, 2]);
    expect(chain.some(isGapRecord)).toBe(false);
    const warned = logs.filter((l) => l.msg.includes('earlier version ignored'));
    expect(warned).toHaveLength(1);
    expect(warned[0]!.files).toEqual([legacyMark]);
  }, 60_000);
});
