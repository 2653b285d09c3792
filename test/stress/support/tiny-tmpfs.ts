import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small tmpfs mounted for one test: a disk that can be filled to the last byte. Needs root. */
export interface TinyTmpfs {
  dir: string;
  /** Fills the free space with a filler file (the last write is short, then ENOSPC). */
  fill(): void;
  /** Deletes the filler: space is back. */
  free(): void;
  unmount(): void;
}

export function mountTinyTmpfs(sizeBytes: number): TinyTmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir], {
      stdio: 'ignore',
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      try {
        // Bounded: the tmpfs is small; ENOSPC ends the loop.
        for (let i = 0; i < 1_000_000; i++) writeSync(fd, chunk);
      } catch {
        // full
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Whether a tmpfs can be mounted here (root in a container that allows it). */
export function tmpfsSupported(): boolean {
  try {
    mountTinyTmpfs(64 * 1024).unmount();
    return true;
  } catch {
    return false;
  }
}
