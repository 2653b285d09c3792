/**
 * A `tollgate serve` that fails to start after it opened its PostgreSQL pool and Redis client (a
 * bad managed-mode setting, a port in use) must exit with its error, not hang on the open
 * connections: a supervisor restarting it would otherwise wait forever.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresService, redisService, uniqueName } from '../support/services.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pgService = await postgresService();
const redis = await redisService();

/** Runs `tollgate serve` with `env`; resolves to its exit code and stderr, or 'hung' after `timeoutMs`. */
function serve(
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null | 'hung'; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TOLLGATE_LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'hung', stderr });
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe.skipIf(!pgService.available || !redis.available)(
  'serve that fails to start (PostgreSQL and Redis)',
  () => {
    const schema = uniqueName('tg_startfail');
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-startfail-'));
    const db = (() => {
      const u = new URL(pgService.url);
      u.searchParams.set('schema', schema);
      return u.toString();
    })();
    const redisUrl = `${redis.url.replace(/\/$/, '')}/?prefix=${uniqueName('tgsf')}`;
    afterAll(async () => {
      const admin = new pg.Pool({ connectionString: pgService.url, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
      rmSync(dir, { recursive: true, force: true });
    });

    it('exits with the error when managed mode has no provider key', async () => {
      const r = await serve(
        {
          TOLLGATE_DB: db,
          TOLLGATE_REDIS_URL: redisUrl,
          TOLLGATE_DATA_DIR: dir,
          TOLLGATE_MODE: 'managed',
          TOLLGATE_PORT: '0',
        },
        15_000,
      );
      expect(r.stderr).toContain('TG_ERR_CONFIG_INVALID');
      // A configuration error is bad usage: exit 2 (DESIGN.md "Command line").
      expect(r.code).toBe(2);
    }, 30_000);

    it('exits with the error when the port is in use', async () => {
      const busy: Server = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      const port = (busy.address() as { port: number }).port;
      try {
        const r = await serve(
          {
            TOLLGATE_DB: db,
            TOLLGATE_REDIS_URL: redisUrl,
            TOLLGATE_DATA_DIR: dir,
            TOLLGATE_PORT: String(port),
          },
          15_000,
        );
        expect(r.code).toBe(1);
      } finally {
        await new Promise<void>((resolve) => busy.close(() => resolve()));
      }
    }, 30_000);
  },
);
