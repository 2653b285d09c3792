import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { until } from '../support/until.js';

describe('first run: tollgate serve on a clean data folder', () => {
  it('prints the dashboard, a one-time sign-in link and the token file; the link signs in once and only once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-first-run-'));
    const mock = new MockProvider();
    const upstream = await mock.listen();
    const db = join(dir, 'data', 'tollgate.db');
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/bin.ts', 'serve', '--port', '0', '--upstream', upstream, '--db', db],
      { env: { ...process.env, TOLLGATE_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    try {
      proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const url = await new Promise<string>((resolve, reject) => {
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        proc.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
        setTimeout(() => reject(new Error('serve did not start')), 30_000);
      });
      const tokenPath = join(dir, 'data', 'admin.token');
      const token = readFileSync(tokenPath, 'utf8').trim();
      expect(err).toContain(`dashboard: ${url}/ui/`);
      expect(err).toContain(`admin token created at ${tokenPath} (mode 0600)`);
      expect(err).toContain(`use the admin token in ${tokenPath}`);
      // The long-lived token stays out of the terminal; the link's secret is single-use.
      expect(err + out).not.toContain(token);
      const link = new RegExp(
        `sign in with this link \\(works once, for 15 minutes\\): (${url}/ui/login\\?link=tgl-[0-9A-Za-z]{32})\\n`,
      ).exec(err)?.[1];
      expect(link).toBeDefined();
      // The start log keeps the upstream's path.
      await until('the start log', () => (out + err).includes('gateway ready'));
      expect(out + err).toContain(`"upstream":"${upstream}"`);

      const first = await request(link!);
      expect(first.statusCode).toBe(303);
      expect(first.headers.location).toBe('/ui/events');
      const cookie = String(first.headers['set-cookie']).split(';')[0]!;
      expect(cookie).toMatch(/^tg_session=.+/);
      const page = await request(`${url}/ui/events`, { headers: { cookie } });
      expect(page.statusCode).toBe(200);
      expect(await page.body.text()).toContain('Live events');

      const second = await request(link!);
      expect(second.statusCode).toBe(401);
      expect(second.headers['set-cookie']).toBeUndefined();
      expect(await second.body.text()).toContain('already used or has expired');
      // A forged link is refused the same way.
      const forged = await request(`${url}/ui/login?link=tgl-${'A'.repeat(32)}`);
      expect(forged.statusCode).toBe(401);
      await first.body.dump();

      proc.kill('SIGTERM');
      expect(await new Promise<number | null>((resolve) => proc.once('exit', resolve))).toBe(0);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await mock.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
