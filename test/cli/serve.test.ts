import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { cli } from '../support/run-cli.js';

describe('tollgate serve (the real process)', () => {
  it('prints where it listens, serves, drains its queue on SIGTERM, and leaves a verifiable store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-serve-'));
    const mock = new MockProvider();
    const upstream = await mock.listen();
    const db = join(dir, 'data', 'tollgate.db');
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/bin.ts', 'serve', '--port', '0', '--upstream', upstream, '--db', db],
      {
        env: { ...process.env, TOLLGATE_LOG_LEVEL: 'error' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        proc.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
        setTimeout(() => reject(new Error('serve did not start')), 30_000);
      });
      const health = await request(`${url}/healthz`);
      expect(health.statusCode).toBe(200);
      expect(await health.body.json()).toMatchObject({ status: 'ok', store: 'up' });
      for (let i = 0; i < 5; i++) {
        const res = await request(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: 'Bearer sk-test-serve-0123456789abcdef',
          },
          body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: `hello ${i}` }] }),
        });
        expect(res.statusCode).toBe(200);
        await res.body.dump();
      }
      proc.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
      expect(code).toBe(0);
      // Local secrets were created private.
      expect(statSync(join(dir, 'data', 'fingerprint.key')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'data', 'checkpoint-signing.key')).mode & 0o777).toBe(0o600);
      const events = await cli(['events', '--db', db, '--json']);
      expect(events.out.trim().split('\n')).toHaveLength(5);
      const verify = await cli(['verify', '--db', db]);
      expect(verify.code).toBe(0);
      // Shutdown wrote a final checkpoint covering every event.
      expect(verify.out).toMatch(/last checkpoint at 5/);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await mock.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
