import { mkdtempSync, openSync, readdirSync, readlinkSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeqReservation } from './seq-reservation.js';

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
  it('keeps the durable mark strictly ahead of every seq handed out, one write per block', () => {
    const path = file();
    const r = new SeqReservation({ path, chainId: 'gw', block: 10 });
    expect(r.previous).toBeNull();
    r.start(0);
    for (let seq = 1; seq <= 25; seq++) {
      r.ensure(seq);
      expect(r.reserved).toBeGreaterThan(seq);
      // What a crash right now would leave: read by the next run.
      expect(new SeqReservation({ path, chainId: 'gw' }).previous!.reserved).toBe(r.reserved);
    }
    expect(r.reserved).toBe(31); // written at seqs 1 (-> 11), 11 (-> 21) and 21 (-> 31)
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
