import { describe, expect, it } from 'vitest';
import { dataDir, loadConfig, writerBatchSize } from '../config/config.js';
import { isPostgresUrl } from './postgres-url.js';

describe('isPostgresUrl', () => {
  it('recognises both libpq schemes in any case, and nothing else', () => {
    for (const u of ['postgres://h/db', 'postgresql://h/db', 'POSTGRES://h/db', 'PostgreSQL://h/db'])
      expect(isPostgresUrl(u)).toBe(true);
    for (const p of ['./data/tollgate.db', 'postgres.db', 'data/postgres://x', ':memory:', 'postgres:/h'])
      expect(isPostgresUrl(p)).toBe(false);
  });

  it('the writer batch size and the data folder agree on it (the data folder used to be case-sensitive)', () => {
    const cfg = loadConfig({ env: { TOLLGATE_DB: 'POSTGRESQL://127.0.0.1/x' } });
    expect(writerBatchSize(cfg)).toBe(2048);
    expect(dataDir(cfg)).toBe(dataDir(loadConfig({ env: { TOLLGATE_DB: 'postgresql://127.0.0.1/x' } })));
  });
});
