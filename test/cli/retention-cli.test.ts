/**
 * `tollgate prune`, `tollgate hold` and the erase refusal, end to end through the CLI on a SQLite
 * store written by the real chainer and checkpoint writer (100 days of traffic ending now).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../support/run-cli.js';
import { DAY, RetentionSite } from '../retention/retention-fixture.js';

describe('tollgate prune / hold / erase of held data (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-retention-cli-'));
  const db = join(dir, 'tollgate.db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prunes past retention as signed records, keeps held events, refuses to erase a held person', async () => {
    // Half a day off the day boundary, so the 30-day cutoff falls between two days of traffic.
    const site = new RetentionSite(10, db, Date.now() - 100 * DAY + DAY / 2);
    for (let d = 0; d < 100; d++) {
      await site.traffic(10, (e, i) => {
        e.user_id = i % 10 === 3 ? 'held-user' : `user-${i % 7}`;
      });
      site.clock.advance(DAY);
    }
    await site.flushCheckpoint();
    site.close();
    const keys = join(dir, 'verifier.keys');
    writeFileSync(keys, site.key.verifierKey + '\n');
    const env = { TOLLGATE_DATA_DIR: dir, TOLLGATE_SIGNING_KEY: site.key.privateKeyText() };

    const noScope = await cli(['hold', 'create', '--db', db, '--reason', 'case 7'], env);
    expect(noScope.code).toBe(1);
    expect(noScope.err).toContain('TG_ERR_RETENTION_HOLD_INVALID');

    const created = await cli(
      ['hold', 'create', '--db', db, '--user', 'held-user', '--reason', 'case 7: litigation', '--json'],
      env,
    );
    expect(created.code, created.err).toBe(0);
    const hold = JSON.parse(created.out) as { id: string };
    expect(hold.id).toMatch(/^hold_[0-9a-f]{10}$/);

    const dry = await cli(['prune', '--db', db, '--events', '30d', '--dry-run'], env);
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toContain('dry run — nothing changed');
    expect(dry.out).toMatch(/would delete\s+kept \(held\)/);
    expect(dry.out).toMatch(/gw-1\s+1\.\.700\s+630\s+70/);
    expect(dry.out).toContain('1 legal hold(s) in force');

    const pruned = await cli(['prune', '--db', db, '--events', '30d', '--json'], env);
    expect(pruned.code, pruned.err).toBe(0);
    expect(JSON.parse(pruned.out)).toMatchObject({ deleted: 630, events: [{ chain_id: 'gw-1', held: 70 }] });

    // Rollups keep the pruned period's totals: rebuilding them from what is left is refused.
    const rebuild = await cli(['rollups', 'rebuild', '--db', db], env);
    expect(rebuild.code).toBe(2);
    expect(rebuild.err).toContain('pruned by retention');

    const verified = await cli(['verify', '--db', db, '--keys', keys], env);
    expect(verified.code, verified.out + verified.err).toBe(0);
    expect(verified.out).toContain('verify: OK');

    const refused = await cli(['erase', '--db', db, '--user', 'held-user'], env);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('TG_ERR_RETENTION_HELD');
    expect(refused.err).toContain(hold.id);
    expect(refused.err).toContain('case 7: litigation');

    const list = await cli(['hold', 'list', '--db', db], env);
    expect(list.out).toMatch(new RegExp(`${hold.id}\\s+user held-user\\s+case 7: litigation`));
    const released = await cli(['hold', 'release', hold.id, '--db', db, '--reason', 'case closed'], env);
    expect(released.code, released.err).toBe(0);
    expect((await cli(['hold', 'release', hold.id, '--db', db], env)).err).toContain(
      'TG_ERR_RETENTION_HOLD_NOT_FOUND',
    );
    expect((await cli(['hold', 'list', '--db', db], env)).out).toContain('no legal hold in force');
    const erased = await cli(['erase', '--db', db, '--user', 'held-user'], env);
    expect(erased.code, erased.err).toBe(0);

    // Holds and releases are audit events in the chain.
    const admin = await cli(['events', '--db', db, '--json', '--feature', 'admin'], env);
    const endpoints = admin.out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { endpoint: string }).endpoint);
    expect(endpoints.filter((e) => e.startsWith('admin:hold.'))).toEqual([
      'admin:hold.release',
      'admin:hold.create',
    ]);
    expect(endpoints).toContain('admin:audit.prune');
    expect((await cli(['verify', '--db', db, '--keys', keys], env)).code).toBe(0);
  });
});
