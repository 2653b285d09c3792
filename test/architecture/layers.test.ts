import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { LAYER_ORDER, tierOf } from '../../layers.config.js';

const repo = join(import.meta.dirname, '..', '..');

/**
 * Lints source text as if it were the file at `path`, with the repository's eslint.config.js and
 * only its import rule (the type-aware rules need a file on disk, and are not what is tested here).
 */
async function importErrors(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: repo,
    overrideConfig: [{ languageOptions: { parserOptions: { projectService: false, project: null } } }],
    ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
  });
  const [result] = await eslint.lintText(code, { filePath: join(repo, path) });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('layering (layers.config.js via eslint.config.js)', () => {
  it.each([
    ['src/core/planted.ts', "import { startTollgate } from '../app/start-tollgate.js';"],
    ['src/sdk/planted.ts', "import { startTollgate } from '../app/start-tollgate.js';"],
    ['src/admin/planted.ts', "import { runDemo } from '../cli/demo/run-demo.js';"],
    ['src/observability/planted.ts', "import type { Gateway } from '../proxy/gateway.js';"],
    ['src/store/sqlite/planted.ts', "import { verifyChains } from '../../integrity/verify.js';"],
    ['src/capture/planted.ts', "import { AuditPipeline } from '../pipeline/pipeline.js';"],
    ['src/proxy/planted.ts', "import { createAuditor } from '../sdk/auditor.js';"],
  ])('a planted wrong import in %s fails lint', async (path, code) => {
    const errors = await importErrors(path, `${code}\n`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^no-restricted-imports: .*may import only from folders listed before it/);
  });

  it.each([
    ['src/app/planted.ts', "import { createAuditor } from '../sdk/auditor.js';"],
    ['src/integrity/planted.ts', "import type { EventStore } from '../store/event-store.js';"],
    ['src/store/sqlite/planted.ts', "import { openSqlite } from './open-sqlite.js';"],
    ['src/store/sqlite/planted.ts', "import type { Clock } from '../../core/clock.js';"],
    ['src/pipeline/planted.ts', "import type { Redactor } from '../core/stages.js';"],
    // Tests may reach across layers (contract suites run against every store).
    ['src/redaction/planted.test.ts', "import { createContentCipher } from '../privacy/content-cipher.js';"],
  ])('an import down the layers in %s passes', async (path, code) => {
    expect(await importErrors(path, `${code}\n`)).toEqual([]);
  });

  it('every folder of src/ has its place in the layer order', () => {
    const folders = readdirSync(join(repo, 'src')).filter((n) =>
      statSync(join(repo, 'src', n)).isDirectory(),
    );
    const unplaced = folders.filter((f) => !LAYER_ORDER.includes(f));
    expect(unplaced).toEqual([]);
  });

  it('docs/architecture.md lists every folder in the layer order, in its tier', () => {
    const doc = readFileSync(join(repo, 'docs', 'architecture.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| ([a-z ]+) \| `([a-z-]+)\/` \|/gm)].map((m) => [m[1]!, m[2]!]);
    expect(rows.map(([, folder]) => folder)).toEqual([...LAYER_ORDER]);
    const tierWord: Record<string, string> = {
      core: 'core',
      capabilities: 'capability',
      'entry points': 'entry point',
      application: 'application',
    };
    for (const [tier, folder] of rows) expect(tier, folder).toBe(tierWord[tierOf(folder!)!]);
  });
});
