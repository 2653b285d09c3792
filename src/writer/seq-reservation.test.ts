import {
  closeSync,
  fdatasyncSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SeqReservation } from './seq-reservation.js';
import type { AsyncSlotWrite } from './slot-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function file(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-mark-'));
  dirs.push(dir);
  return join(dir, 'chain-gw.mark');
}

describe('SeqReservation', () => {
  it('keeps the durable mark strictly ahead of every seq handed out, even when seqs outrun the write ahead', () => {
    const path = file();
    // The write ahead lands only when the test says so (a thread pool kept busy, deterministically).
    const pool = heldWrites();
    const r = new SeqReservation({ path, chainId: 'gw', block: 10, asyncWrite: pool.asyncWrite });
    expect(r.previous).toBeNull();
    r.start(0);
    for (let seq = 1; seq <= 25; seq++) {
      r.ensure(seq);
      expect(r.reserved).toBeGreaterThan(seq);
      // What a crash right now would leave: read by the next run.
      expect(readMark(path)).toBe(r.reserved);
    }
    expect(r.reserved).toBe(31); // written at seqs 1 (-> 11), 11 (-> 21) and 21 (-> 31)
    expect(r.syncWrites).toBe(3);
    expect(r.writingAhead).toBe(true); // 16, started at seq 6, not landed
    // The write ahead (generation 2) lands after generations 3 and 4: it must not replace 31.
    pool.release();
    expect(r.writingAhead).toBe(false);
    expect(readMark(path)).toBe(31);
    expect(r.reserved).toBe(31);
    // The next write ahead and synchronous writes alternate slots again, newest still read.
    r.ensure(26);
    pool.release();
    expect(readMark(path)).toBe(36);
    for (let seq = 27; seq <= 36; seq++) r.ensure(seq);
    expect(readMark(path)).toBe(46);
  });

  it('a settle made after synchronous writes, while a write ahead is in flight, is not replaced when it lands', () => {
    const path = file();
    const pool = heldWrites();
    const r = new SeqReservation({ path, chainId: 'gw', block: 10, asyncWrite: pool.asyncWrite });
    r.start(0);
    for (let seq = 1; seq <= 11; seq++) r.ensure(seq); // 11 sync, 16 ahead (held), 21 sync
    expect(r.writingAhead).toBe(true);
    r.settle(11);
    expect(readMark(path)).toBe(11);
    expect(openFds(path)).toBe(1); // kept open for the write in flight
    pool.release();
    // A clean stop at 11: the next start must not see 16 or 21 (a false crash gap).
    expect(readMark(path)).toBe(11);
    expect(openFds(path)).toBe(0);
  });

  it('writes the next mark ahead, off the event loop, once half a block is handed out', async () => {
    const path = file();
    const r = new SeqReservation({ path, chainId: 'gw', block: 10 });
    r.start(0);
    for (let seq = 1; seq <= 60; seq++) {
      r.ensure(seq);
      expect(r.reserved).toBeGreaterThan(seq);
      expect(new SeqReservation({ path, chainId: 'gw' }).previous!.reserved).toBeGreaterThan(seq);
      await landed(r);
    }
    // Only the first mark waited on the event loop; each later one was on disk before it was needed.
    expect(r.syncWrites).toBe(1);
    expect(r.reserved).toBe(66); // 11 at seq 1, then 16, 21, … written ahead at seqs 6, 11, …, 56
  });

  it('a settle while a mark is written ahead wins, and the file is closed once that write lands', async () => {
    const path = file();
    const r = new SeqReservation({ path, chainId: 'gw', block: 10 });
    r.start(0);
    for (let seq = 1; seq <= 6; seq++) r.ensure(seq);
    expect(r.writingAhead).toBe(true); // 16, started at seq 6
    r.settle(6);
    await landed(r);
    expect(new SeqReservation({ path, chainId: 'gw' }).previous).toEqual({ reserved: 6 });
    expect(r.reserved).toBe(6);
    expect(openFds(path)).toBe(0);
  });

  it('a clean stop settles the mark to the head; another chain id or a torn slot is not trusted', () => {
    const path = file();
    const r = new SeqReservation({ path, chainId: 'gw', block: 100 });
    r.start(7);
    r.ensure(8);
    expect(new SeqReservation({ path, chainId: 'gw' }).previous).toEqual({ reserved: 108 });
    r.settle(9);
    expect(new SeqReservation({ path, chainId: 'gw' }).previous).toEqual({ reserved: 9 });
    expect(new SeqReservation({ path, chainId: 'other' }).previous).toBeNull();
    // Tear the newest slot: the older one (108) is read, which is still a safe (higher) mark.
    const fd = openSync(path, 'r+');
    // Generation 1 (108) went to slot 1, generation 2 (9) to slot 0.
    writeSync(fd, Buffer.from('garbage'), 0, 7, 0);
    closeSync(fd);
    expect(new SeqReservation({ path, chainId: 'gw' }).previous).toEqual({ reserved: 108 });
  });

  it('after settle, ensure refuses (TG_ERR_AUDIT_UNAVAILABLE) without writing or reopening the file', () => {
    const path = file();
    const r = new SeqReservation({ path, chainId: 'gw', block: 1024 });
    r.start(0);
    r.ensure(1);
    r.settle(1);
    expect(openFds(path)).toBe(0);
    // An event linked after the stop (an SDK stream ending after Auditor.close()).
    expect(() => r.ensure(2)).toThrow(expect.objectContaining({ code: 'TG_ERR_AUDIT_UNAVAILABLE' }));
    expect(new SeqReservation({ path, chainId: 'gw' }).previous).toEqual({ reserved: 1 });
    expect(openFds(path)).toBe(0);
    // A second settle (close twice) changes nothing.
    r.settle(5);
    expect(new SeqReservation({ path, chainId: 'gw' }).previous).toEqual({ reserved: 1 });
  });

  it('close without settling keeps the mark ahead (the next start accounts a crash gap) and refuses after', () => {
    const path = file();
    const r = new SeqReservation({ path, chainId: 'gw', block: 10 });
    r.start(3);
    r.ensure(4);
    r.close();
    expect(openFds(path)).toBe(0);
    expect(new SeqReservation({ path, chainId: 'gw' }).previous).toEqual({ reserved: 14 });
    expect(() => r.ensure(5)).toThrow(expect.objectContaining({ code: 'TG_ERR_AUDIT_UNAVAILABLE' }));
    r.settle(4);
    expect(new SeqReservation({ path, chainId: 'gw' }).previous).toEqual({ reserved: 14 });
  });
});

/** The mark the next run would read. */
function readMark(path: string): number | undefined {
  return new SeqReservation({ path, chainId: 'gw' }).previous?.reserved;
}

/** Writes ahead that land (written and fdatasync'd, callback run) only on `release()`. */
function heldWrites(): { asyncWrite: AsyncSlotWrite; release: () => void } {
  const held: (() => void)[] = [];
  return {
    asyncWrite: (fd, buf, pos, done) => {
      held.push(() => {
        try {
          writeSync(fd, buf, 0, buf.length, pos);
          fdatasyncSync(fd);
        } catch (err) {
          done(err as Error);
          return;
        }
        done(null);
      });
    },
    release: () => {
      for (const land of held.splice(0)) land();
    },
  };
}

/** Waits until the mark being written ahead (if any) is on disk and its callback ran. */
async function landed(r: SeqReservation): Promise<void> {
  // An fdatasync on a loaded machine can take a while: poll, without a timed assertion.
  await vi.waitFor(() => expect(r.writingAhead).toBe(false), { timeout: 10_000, interval: 1 });
}

/** Descriptors of this process open on `path` (Linux /proc). */
function openFds(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}
