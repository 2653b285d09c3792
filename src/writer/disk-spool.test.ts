import * as fs from 'node:fs';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sampleEvent } from '../../test/integrity/sample-events.js';
import { DiskSpool } from './disk-spool.js';

// fsync failing after whole writes (EIO at writeback, ENOSPC/EDQUOT reported at fsync on some
// filesystems) cannot be produced on demand on a test machine: `fsyncSync` is replaced, the rest
// of the file system is real.
const failFsync = { next: false };
vi.mock('node:fs', async (original) => {
  const real = await original<typeof import('node:fs')>();
  return {
    ...real,
    fsyncSync: (fd: number): void => {
      if (failFsync.next) {
        failFsync.next = false;
        throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      }
      real.fsyncSync(fd);
    },
  };
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('DiskSpool', () => {
  it('keeps nothing of an append whose fsync failed: those events are counted lost, never also replayed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-spool-'));
    dirs.push(dir);
    const path = join(dir, 'spool.jsonl');
    const spool = new DiskSpool(path, 1_000_000);
    const kept = [sampleEvent(1, Date.UTC(2026, 0, 1)), sampleEvent(2, Date.UTC(2026, 0, 1))];
    expect(spool.append(kept)).toBe(2);
    const sizeBefore = statSync(path).size;
    failFsync.next = true;
    expect(() =>
      spool.append([sampleEvent(3, Date.UTC(2026, 0, 1)), sampleEvent(4, Date.UTC(2026, 0, 1))]),
    ).toThrow(/EIO/);
    expect(statSync(path).size).toBe(sizeBefore);
    expect(spool.read()).toEqual({ events: kept, corrupt: 0 });
    // The spool goes on from where it was.
    const later = sampleEvent(5, Date.UTC(2026, 0, 1));
    expect(spool.append([later])).toBe(1);
    expect(spool.read().events).toEqual([...kept, later]);
    expect(spool.size()).toBe(fs.statSync(path).size);
    spool.close();
  });
});
