import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite } from './open-sqlite.js';
import { SqliteDataKeyStore } from './sqlite-data-key-store.js';

describe('SQLite data key erasure', () => {
  it('leaves no copy of a destroyed wrapped key in the store, its WAL or free pages, with another connection open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-erase-'));
    try {
      const path = join(dir, 'tollgate.db');
      // The running gateway's connection: it created the keys and keeps the store open.
      const gatewayDb = openSqlite(path);
      const gateway = new SqliteDataKeyStore(gatewayDb);
      const keys = Array.from({ length: 20 }, (_, i) => ({
        keyId: `dk_${i}`,
        subject: `user-${i}`,
        wrapped: randomBytes(60),
        createdAtMs: 1000 + i,
      }));
      for (const k of keys) gateway.putIfAbsent(k);
      const target = keys[7]!;
      const all = (): Buffer => Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
      expect(all().includes(target.wrapped)).toBe(true);
      // `tollgate erase` runs in its own process: its own connection.
      const cliDb = openSqlite(path);
      expect(await new SqliteDataKeyStore(cliDb).destroy(target.subject, 5000)).toEqual([target.keyId]);
      cliDb.close();
      expect(all().includes(target.wrapped)).toBe(false);
      // The other keys are intact and still readable by the gateway.
      expect(gateway.getBySubject('user-8')?.wrapped.equals(keys[8]!.wrapped)).toBe(true);
      expect(gateway.getBySubject(target.subject)).toBeNull();
      gatewayDb.close();
      expect(all().includes(target.wrapped)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
