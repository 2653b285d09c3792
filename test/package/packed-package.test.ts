// The package as a user gets it: `npm pack`, installed from the tarball into a scratch project
// outside the repo, imported by name (`tollgate`, `tollgate/sdk`), in JavaScript and in TypeScript.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTEL_PACKAGES, POSTGRES_PACKAGES, REDIS_PACKAGES } from '../../src/core/optional-dependency.js';

const root = new URL('../../', import.meta.url).pathname;
const npmRuns = spawnSync('npm', ['--version'], { encoding: 'utf8' }).status === 0;

/**
 * The environment for nested npm runs. Under `npm test`, npm exports its settings as npm_config_*
 * (npm_config_local_prefix is this repo: an install meant for the scratch project must not see
 * it); only the ones that say where the cache and registry are pass through.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set([
    'npm_config_cache',
    'npm_config_registry',
    'npm_config_userconfig',
    'npm_config_globalconfig',
  ]);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    const lower = k.toLowerCase();
    if (lower.startsWith('npm_') && !keep.has(lower)) continue;
    if (/^VITEST/i.test(k) || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return env;
}

function run(cmd: string, args: string[], cwd: string, timeout = 480_000): string {
  return execFileSync(cmd, args, { cwd, env: npmEnv(), encoding: 'utf8', timeout, stdio: 'pipe' });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const CHECK_JS = `
import * as gateway from 'tollgate';
import * as sdk from 'tollgate/sdk';
const out = { gateway: Object.keys(gateway).sort(), sdk: Object.keys(sdk).sort() };
const seen = [];
const auditor = await sdk.createAuditor({ store: new sdk.MemoryEventStore(), listeners: [(e) => seen.push(e)] });
await auditor.track(
  { provider: 'openai', endpoint: '/chat/completions', request: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'mail alice@example.com' }] } },
  async (call) => { call.setModel('gpt-4.1'); call.appendOutput('ok'); return 1; },
);
await auditor.close();
out.event = { status: seen[0]?.status, prompt: seen[0]?.prompt, hash: typeof seen[0]?.hash };
try {
  await gateway.openEventStore('postgres://127.0.0.1:1/none');
} catch (err) {
  out.postgres = { code: err.code, detail: err.detail };
}
try {
  gateway.loadConfig({ file: null, env: {}, overrides: { failure_polcy: 'fail-closed' } });
} catch (err) {
  out.config = { code: err.code, detail: err.detail };
}
console.log(JSON.stringify(out));
`;

const CHECK_TS = `
import { loadConfig, startTollgate, TollgateError, type AuditEvent, type TollgateConfig } from 'tollgate';
import { createAuditor, wrapOpenAI, type AuditorOptions } from 'tollgate/sdk';
const config: TollgateConfig = loadConfig({ file: null, env: {} });
const port: number = config.port;
const options: AuditorOptions = { store: { kind: 'memory' } };
const status: AuditEvent['status'] = 'SUCCESS';
export const used = [port, options, status, startTollgate, createAuditor, wrapOpenAI, TollgateError];
`;

describe.skipIf(!npmRuns)('the packed package, installed by name in a scratch project', () => {
  let scratch: string;
  let packed: string[] = [];

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'tollgate-pack-'));
    // `npm pack` runs `prepare` (the build), so dist/ is this tree's code.
    const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], root)) as {
      filename: string;
      files: { path: string }[];
    }[];
    packed = info!.files.map((f) => f.path);
    writeFileSync(
      join(scratch, 'package.json'),
      JSON.stringify({
        name: 'scratch',
        private: true,
        type: 'module',
        dependencies: { tollgate: `file:./${info!.filename}` },
      }),
    );
    // Offline-friendly: every dependency is in the npm cache. --ignore-scripts: importing needs no
    // native build (better-sqlite3 loads its addon only when a SQLite store is opened).
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], scratch);
  }, 900_000);
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('ships the build, its types, the price catalog and docs; no tests, test kits, contract suites or evaluation', () => {
    expect(packed).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.d.ts',
        'dist/sdk/index.js',
        'dist/sdk/index.d.ts',
        'dist/cli/bin.js',
        'prices/catalog.yaml',
      ]),
    );
    // The code shipped; ops/ may carry promtool's rule tests, which are for users to run.
    const strays = packed.filter(
      (p) => p.startsWith('dist/') && /\.test\.|\.contract\.|test-kit|detection\/evaluation\//.test(p),
    );
    expect(strays).toEqual([]);
    const dist = join(scratch, 'node_modules', 'tollgate', 'dist');
    const importsVitest = filesUnder(dist).filter(
      (f) => f.endsWith('.js') && /from ['"]vitest['"]/.test(readFileSync(f, 'utf8')),
    );
    expect(importsVitest).toEqual([]);
  });

  it('installs none of the optional peers (PostgreSQL, Redis, OpenTelemetry)', () => {
    for (const need of [POSTGRES_PACKAGES, REDIS_PACKAGES, OTEL_PACKAGES])
      for (const peer of need.packages) {
        // @opentelemetry/api (small, no SDK) comes with prom-client, a dependency of /metrics.
        if (peer === '@opentelemetry/api') continue;
        expect(existsSync(join(scratch, 'node_modules', peer)), peer).toBe(false);
      }
  });

  it('imports tollgate and tollgate/sdk by name, audits a call, and names a missing optional peer', () => {
    writeFileSync(join(scratch, 'check.mjs'), CHECK_JS);
    const out = JSON.parse(run(process.execPath, ['check.mjs'], scratch, 60_000)) as {
      gateway: string[];
      sdk: string[];
      event: { status: string; prompt: string; hash: string };
      postgres: { code: string; detail: Record<string, string> };
      config: { code: string; detail: Record<string, string> };
    };
    expect(out.gateway).toEqual(
      expect.arrayContaining(['startTollgate', 'loadConfig', 'openEventStore', 'TollgateError']),
    );
    expect(out.sdk).toEqual(
      expect.arrayContaining([
        'createAuditor',
        'wrapOpenAI',
        'wrapAnthropic',
        'createAuditedFetch',
        'MemoryEventStore',
      ]),
    );
    expect(out.event).toEqual({
      status: 'SUCCESS',
      prompt: expect.not.stringContaining('alice@example.com'),
      hash: 'string',
    });
    expect(out.postgres).toEqual({
      code: 'TG_ERR_DEPENDENCY_MISSING',
      detail: expect.objectContaining({ package: 'pg', install: 'npm install pg pg-copy-streams' }),
    });
    expect(out.config).toMatchObject({
      code: 'TG_ERR_CONFIG_INVALID',
      detail: { did_you_mean: 'failure_policy' },
    });
  });

  it('type-checks a TypeScript user of both entry points (package.json types and exports)', () => {
    writeFileSync(join(scratch, 'check.ts'), CHECK_TS);
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          noEmit: true,
          // The optional peers' types are not installed here; a user's own check of them is theirs.
          skipLibCheck: true,
          typeRoots: [join(root, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['check.ts'],
      }),
    );
    run(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
      scratch,
      120_000,
    );
  });
});
