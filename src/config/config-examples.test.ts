import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

const root = new URL('../../', import.meta.url);
const pages = ['README.md', ...readdirSync(new URL('docs/', root)).map((f) => `docs/${f}`)].filter((p) =>
  p.endsWith('.md'),
);
/** Every ```yaml block that says it is a tollgate.config.yaml (its first line is that comment). */
const examples = pages.flatMap((page) =>
  [
    ...readFileSync(new URL(page, root), 'utf8').matchAll(
      /```yaml\n(# tollgate\.config\.yaml[^\n]*\n[\s\S]*?)```/g,
    ),
  ].map((m, i) => ({ name: `${page} #${i + 1}`, yaml: m[1]! })),
);

const dir = mkdtempSync(join(tmpdir(), 'tollgate-config-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the config examples in README.md and docs/ load', () => {
  it('finds them', () => expect(examples.length).toBeGreaterThanOrEqual(4));
  it.each(examples)('$name', ({ name, yaml }) => {
    const file = join(dir, `${name.replace(/[^a-z0-9]/gi, '_')}.yaml`);
    writeFileSync(file, yaml);
    expect(() => loadConfig({ file, env: {} })).not.toThrow();
  });
});
