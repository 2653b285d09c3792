import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/run-cli.js';

describe('tollgate demo', () => {
  it('runs offline and shows every capability: events, redaction, cost, the token leak, alerts, verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-demo-'));
    try {
      const db = join(dir, 'demo.db');
      const r = await cli(['demo', '--db', db, '--seconds', '1'], { NO_COLOR: '1' });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/sent 91 requests/);
      expect(r.out).toMatch(/AUTH_FAILED\s+8/);
      expect(r.out).toContain('[REDACTED:aws_access_key]');
      expect(r.out).toMatch(/unpriced \(cost unknown, not \$0\)/);
      expect(r.out).toMatch(/The silent token leak: session dave-runaway-tab/);
      expect(r.out).toMatch(/auth\.repeated-failures/);
      expect(r.out).toMatch(/session\.context-growth/);
      expect(r.out).toMatch(/Authentication failures: 8/);
      expect(r.out).toMatch(/verify: OK/);
      // The store it leaves behind is usable by the other commands.
      expect((await cli(['verify', '--db', db])).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
