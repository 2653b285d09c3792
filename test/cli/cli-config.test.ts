import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../support/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a config that does not hold stops the CLI with exit 2 and one line', () => {
  it('a misspelt key names the nearest valid one', async () => {
    const file = join(dir, 'typo.yaml');
    writeFileSync(file, 'failure_polcy: fail-closed\n');
    const r = await cli(['serve', '--config', file]);
    expect(r.code).toBe(2);
    const lines = r.err.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^tollgate: TG_ERR_CONFIG_INVALID: .*field: failure_polcy, problem: unknown key, did_you_mean: failure_policy/,
    );
    expect(r.out).toBe('');
  });
  it('an unknown key (upstream for upstream_url), for every command that reads the config', async () => {
    const file = join(dir, 'upstream.yaml');
    writeFileSync(file, 'upstream: http://127.0.0.1:9/v1\n');
    const r = await cli(['doctor', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('did_you_mean: upstream_url');
  });
  it('a wrong type from the environment names the variable', async () => {
    const r = await cli(['serve'], { TOLLGATE_PORT: 'eighty', TOLLGATE_DB: join(dir, 'x.db') });
    expect(r.code).toBe(2);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toContain('field: port, problem: expected number, from: TOLLGATE_PORT');
  });
});
