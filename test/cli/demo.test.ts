import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/run-cli.js';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { loadPriceCatalog } from '../../src/pricing/catalog.js';
import { costMicroUsd } from '../../src/pricing/cost.js';
import { priceRowForEvent, usageOfEvent } from '../../src/pricing/pricer.js';

describe('tollgate demo', () => {
  it('runs offline and shows every capability: events, redaction, cost, the token leak, alerts, verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-demo-'));
    try {
      const db = join(dir, 'demo.db');
      const r = await cli(['demo', '--db', db, '--seconds', '1'], { NO_COLOR: '1' });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/sent 112 requests .* to 3 provider APIs/);
      expect(r.out).toMatch(/2 request\(s\) refused past a budget .*budget: user frank \(daily\)/);
      expect(r.out).toMatch(/provider\.quota-low .*Provider quota low/);
      expect(r.out).toMatch(/AUTH_FAILED\s+8/);
      // What recording cost the requests, from the gateway's own /metrics.
      expect(r.out).toMatch(
        /recording held the gateway's event loop \d+ ms over the run.*\n {4}building \d+ events \d+ ms .*, \d+ store writes \d+ ms/,
      );
      expect(r.out).toContain('[REDACTED:aws_access_key]');
      // One definition of "unpriced": the summary says what the cost report's TOTAL says.
      const summary = /(\d+) unpriced \(cost unknown, not \$0\)/.exec(r.out)?.[1];
      const report = /^TOTAL(?:\s+\S+){6}\s+(\d+)\s+\d+$/m.exec(r.out)?.[1];
      expect(summary).toBeDefined();
      expect(summary).toBe(report);
      // The hints run as printed (npx finds the local bin).
      expect(r.out).toContain(`npx tollgate events --db ${db} --status AUTH_FAILED`);
      expect(r.out).toContain('npx tollgate demo --serve');
      expect(r.out).toMatch(/The silent token leak: session dave-runaway-tab/);
      expect(r.out).toMatch(/auth\.repeated-failures/);
      expect(r.out).toMatch(/session\.context-growth/);
      expect(r.out).toMatch(/Authentication failures: 8/);
      expect(r.out).toMatch(/verify: OK/);
      // The incremental run reads only what the retention steps added after the verified checkpoint.
      expect(r.out).toMatch(
        /since checkpoint: [1-9]\d* event\(s\) after the verified checkpoint at tree size (\d+) .*events 1\.\.\1 were not re-checked/,
      );
      // The evidence bundle an auditor would get, checked offline, and a forged copy caught.
      expect(r.out).toMatch(/verify --evidence: OK — \d+ checks passed/);
      expect(r.out).toMatch(/the same bundle with .* edited: FAIL \S+: /);
      // Three provider APIs behind the one gateway, each priced from the catalog in the output.
      const table = r.out.split('Cost by provider and model')[1]!.split('\n\n')[0]!;
      for (const row of [
        /^anthropic\s+\/messages\s+claude-sonnet-4-5\s+\d+\s+\d+\s+\d+\s+\$\d/m,
        /^gemini\s+:streamGenerateContent\s+gemini-2\.5-\w+\s+\d+\s+\d+\s+\d+\s+\$\d/m,
        /^gemini\s+:generateContent\s+gemini-2\.5-\w+\s+\d+\s+\d+\s+\d+\s+\$\d/m,
        /^openai\s+\/responses\s+gpt-4\.1-mini\s+\d+\s+\d+\s+\d+\s+\$\d/m,
        /^openai\s+\/chat\/completions\s+gpt-4\.1\s+\d+\s+\d+\s+\d+\s+\$\d/m,
      ])
        expect(table).toMatch(row);
      const all = await cli(['events', '--db', db, '--json', '--limit', '1000']);
      const events = all.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as AuditEvent);
      const catalog = loadPriceCatalog();
      const others = events.filter((e) => e.api_provider === 'anthropic' || e.api_provider === 'gemini');
      expect(new Set(others.map((e) => e.api_provider))).toEqual(new Set(['anthropic', 'gemini']));
      expect(others).toHaveLength(12);
      for (const e of [...others, ...events.filter((x) => x.endpoint === '/responses')]) {
        expect([e.status, e.input_tokens! > 0, e.output_tokens! > 0], e.model_requested!).toEqual([
          'SUCCESS',
          true,
          true,
        ]);
        expect(e.cost_micro_usd, e.model_requested!).toBe(
          costMicroUsd(priceRowForEvent(catalog, e)!, usageOfEvent(e, 0)!),
        );
      }
      // The store it leaves behind is usable by the other commands, as the hints say.
      expect((await cli(['verify', '--db', db])).code).toBe(0);
      const hinted = await cli(['events', '--db', db, '--status', 'AUTH_FAILED', '--json']);
      expect(hinted.code).toBe(0);
      expect(hinted.out.trim().split('\n')).toHaveLength(8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('--serve keeps the gateway running on the demo store and prints a one-time dashboard link', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-demo-serve-'));
    const proc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/bin.ts',
        'demo',
        '--serve',
        '--port',
        '0',
        '--seconds',
        '1',
        '--db',
        join(dir, 'demo.db'),
      ],
      { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      const link = await new Promise<string>((resolve, reject) => {
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m =
            /works once, for 15 minutes\): (http:\/\/127\.0\.0\.1:\d+\/ui\/login\?link=tgl-\w+)\n/.exec(out);
          if (m) resolve(m[1]!);
        });
        proc.once('exit', (code) => reject(new Error(`demo exited with ${code}`)));
        setTimeout(() => reject(new Error('demo did not start serving')), 90_000);
      });
      const signIn = await request(link);
      expect(signIn.statusCode).toBe(303);
      const cookie = String(signIn.headers['set-cookie']).split(';')[0]!;
      const page = await request(new URL('/ui/events?status=AUTH_FAILED', link).href, {
        headers: { cookie },
      });
      expect(page.statusCode).toBe(200);
      // The demo's events are on the dashboard.
      expect((await page.body.text()).match(/AUTH_FAILED<\/td>|>AUTH_FAILED</g)?.length ?? 0).toBeGreaterThan(
        0,
      );
      proc.kill('SIGTERM');
      expect(await new Promise<number | null>((resolve) => proc.once('exit', resolve))).toBe(0);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
