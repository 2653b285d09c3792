import { existsSync, statSync } from 'node:fs';

/**
 * The paths among `paths` that exist and that users other than the owner may read, write or
 * enter (any group or other permission bit): the audit store, its WAL and the data folder hold
 * events and keys and should be 0700/0600 (docs/access-control.md). `tollgate serve` warns about
 * them at start; it does not change them (an operator may share them on purpose).
 */
export function openToOthers(paths: readonly string[]): string[] {
  return paths.filter((p) => {
    try {
      return existsSync(p) && (statSync(p).mode & 0o077) !== 0;
    } catch {
      return false;
    }
  });
}
