import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Imports the SDK entry point in a fresh Node process, optionally opens an auditor on `store`,
 * and reports whether better-sqlite3 (its JS, and its native addon) got loaded.
 */
function loadedAfter(store: string | null): { js: boolean; native: boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-lazy-'));
  try {
    const script = `
      import { createRequire } from 'node:module';
      const sdk = await import(${JSON.stringify(join(ROOT, 'src/sdk/index.ts'))});
      const store = ${store ?? 'null'};
      if (store) { const a = await sdk.createAuditor({ store }); await a.close(); }
      const require = createRequire(import.meta.url);
      const js = Object.keys(require.cache).some((p) => p.includes('better-sqlite3'));
      const native = process.report.getReport().sharedObjects.some((p) => p.includes('better_sqlite3'));
      console.log(JSON.stringify({ js, native }));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, TOLLGATE_TEST_DB: join(dir, 'x.db') },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { js: boolean; native: boolean };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the SDK entry point and the SQLite native module', () => {
  it('does not load better-sqlite3 when another store is chosen', () => {
    expect(loadedAfter(null)).toEqual({ js: false, native: false });
    expect(loadedAfter(`{ kind: 'memory' }`)).toEqual({ js: false, native: false });
  });

  it('loads it when the SQLite store is chosen (the check above can fail)', () => {
    expect(loadedAfter(`{ kind: 'sqlite', path: process.env.TOLLGATE_TEST_DB }`)).toEqual({
      js: true,
      native: true,
    });
  });
});
