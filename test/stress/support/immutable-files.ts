import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Makes files immutable (`chattr +i`), which — unlike chmod — also refuses writes through file
 * descriptors that are already open (EPERM), so a running SQLite connection sees a read-only disk.
 * Needs root (CAP_LINUX_IMMUTABLE) and a filesystem with inode flags (ext4, xfs, btrfs).
 */
export function setImmutable(paths: readonly string[], on: boolean): void {
  const present = paths.filter((p) => existsSync(p));
  if (present.length) execFileSync('chattr', [on ? '+i' : '-i', ...present], { stdio: 'ignore' });
}

/** Whether `chattr +i` works here (probed on a scratch file in the temp folder). */
export function immutableSupported(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-chattr-'));
  const f = join(dir, 'probe');
  writeFileSync(f, 'x');
  try {
    setImmutable([f], true);
    setImmutable([f], false);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The files of one SQLite store in WAL mode that a read-only disk refuses to write: the database
 * and its WAL. The `-shm` index is left alone: SQLite maps it into memory, and a store through that
 * mapping into an immutable file is answered with SIGBUS, which models no failure a running
 * gateway can handle (docs/reliability.md).
 */
export function sqliteFiles(db: string): string[] {
  return [db, `${db}-wal`];
}
