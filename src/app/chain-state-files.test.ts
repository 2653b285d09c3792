import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chainStateFiles, storeIdentity } from './chain-state-files.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('chainStateFiles', () => {
  it('names the mark and journal by instance and store; one SQLite file by any of its names is one store', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-state-'));
    dirs.push(dir);
    const a = join(dir, 'a.db');
    writeFileSync(a, '');
    symlinkSync(a, join(dir, 'link.db'));
    expect(storeIdentity(a)).toMatch(/^[0-9a-f]{12}$/);
    expect(storeIdentity(a)).not.toBe(storeIdentity(join(dir, 'b.db')));
    expect(storeIdentity(join(dir, 'link.db'))).toBe(storeIdentity(a));
    expect(storeIdentity(relative(process.cwd(), a))).toBe(storeIdentity(a));
    const f = chainStateFiles(dir, 'gw', a);
    expect(f.mark).toBe(join(dir, `chain-gw-${storeIdentity(a)}.mark`));
    expect(f.journal).toBe(join(dir, `gaps-gw-${storeIdentity(a)}.json`));
    expect(f.legacy).toEqual([]);
    writeFileSync(join(dir, 'gaps-gw.json'), '');
    expect(chainStateFiles(dir, 'gw', a).legacy).toEqual([join(dir, 'gaps-gw.json')]);
  });

  it('a PostgreSQL store is its host, port, database and schema, not its credentials or options', () => {
    const base = storeIdentity('postgres://127.0.0.1:5432/test');
    expect(storeIdentity('postgresql://alice:secret@127.0.0.1/test?sslmode=disable')).toBe(base);
    expect(storeIdentity('postgres://127.0.0.1:5432/test?schema=tollgate')).toBe(base);
    expect(storeIdentity('postgres://127.0.0.1:5432/other')).not.toBe(base);
    expect(storeIdentity('postgres://127.0.0.1:5432/test?schema=tenant2')).not.toBe(base);
    expect(storeIdentity('postgres://127.0.0.1:5433/test')).not.toBe(base);
    expect(storeIdentity('postgres://db.internal:5432/test')).not.toBe(base);
  });
});
