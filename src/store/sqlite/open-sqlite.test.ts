import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite, SQLITE_PAGE_SIZE } from './open-sqlite.js';
import { SqliteEventStore } from './sqlite-event-store.js';
import { sampleEvent } from '../../../test/integrity/sample-events.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const newPath = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-open-'));
  dirs.push(dir);
  return join(dir, 'tollgate.db');
};

describe('openSqlite', () => {
  it('creates a new store in WAL mode with the larger page size', () => {
    const path = newPath();
    const db = openSqlite(path);
    new SqliteEventStore(db);
    expect(db.pragma('page_size', { simple: true })).toBe(SQLITE_PAGE_SIZE);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const again = openSqlite(path);
    expect(again.pragma('page_size', { simple: true })).toBe(SQLITE_PAGE_SIZE);
    again.close();
  });

  it('keeps the page size of a store created before (4 KB) and its events', async () => {
    const path = newPath();
    const old = new Database(path);
    old.pragma('page_size = 4096');
    old.pragma('journal_mode = WAL');
    const before = new SqliteEventStore(old);
    const event = sampleEvent(1, Date.UTC(2026, 0, 1));
    await before.append([event]);
    old.close();
    const db = openSqlite(path);
    expect(db.pragma('page_size', { simple: true })).toBe(4096);
    const store = new SqliteEventStore(db);
    expect(await store.get(event.id)).toEqual(event);
    await store.append([sampleEvent(2, Date.UTC(2026, 0, 1))]);
    expect(await store.count()).toBe(2);
    await store.close();
  });

  it('creates the data folder 0700 and the store, its WAL and SHM 0600 (issue 17)', () => {
    const dir = join(newPath(), '..', 'data');
    const path = join(dir, 'tollgate.db');
    const db = openSqlite(path);
    db.exec('CREATE TABLE t (x TEXT); INSERT INTO t VALUES (1)');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of [path, `${path}-wal`, `${path}-shm`]) expect(statSync(f).mode & 0o777, f).toBe(0o600);
    db.close();
  });
});
