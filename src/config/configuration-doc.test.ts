import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS } from './config-fields.js';
import { ENV_VARS } from './config.js';
import { renderConfigurationDoc } from './configuration-doc.js';

const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

describe('docs/configuration.md', () => {
  it('is what the schema renders (run `npm run docs:config` after changing the schema)', () => {
    expect(doc).toBe(renderConfigurationDoc());
  });
  it('lists every key with its environment variable', () => {
    for (const f of CONFIG_FIELDS) expect(doc).toContain(`| \`${f.path.join('.')}\` |`);
    for (const [name, key] of Object.entries(ENV_VARS))
      expect(doc).toMatch(new RegExp(`\\| \`${key.replace(/\./g, '\\.')}\` \\|[^\\n]*\\| \`${name}\` \\|`));
  });
});
