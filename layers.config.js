// @ts-check
/**
 * The dependency direction of src/ (docs/architecture.md): each top-level folder may import from
 * its own files and from the folders listed before it, never from one listed after it. The tiers
 * are core <- capabilities <- entry points <- the application (cli, app); inside a tier the order
 * is the one the folders actually need, so the graph stays free of cycles. eslint.config.js turns
 * this list into `no-restricted-imports` rules, so a wrong arrow fails `npm run lint`.
 *
 * A new folder goes in the tier it belongs to, after everything it imports.
 */
export const LAYERS = [
  { tier: 'core', folders: ['core'] },
  {
    tier: 'capabilities',
    folders: [
      'http',
      'redaction',
      'alerting',
      'pricing',
      'upstream',
      'providers',
      'capture',
      'access',
      'detection',
      'privacy',
      'store',
      'integrity',
      'retention',
      'writer',
      'pipeline',
      'export',
      'reports',
      'state',
      'observability',
      'config',
      'doctor',
    ],
  },
  { tier: 'entry points', folders: ['proxy', 'sdk', 'admin', 'dashboard', 'mock-provider'] },
  { tier: 'application', folders: ['app', 'cli'] },
];

/** Every listed folder, lowest first. */
export const LAYER_ORDER = LAYERS.flatMap((l) => l.folders);

/** The tier a folder belongs to (for messages). */
export function tierOf(folder) {
  return LAYERS.find((l) => l.folders.includes(folder))?.tier ?? null;
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * ESLint flat-config blocks: for each folder and file depth, `no-restricted-imports` patterns
 * forbidding relative imports that climb to src/ and enter a folder listed after it. A pattern
 * matches the import string as written (`../app/x.js` from src/sdk/a.ts, `../../app/x.js` from
 * src/store/sqlite/b.ts), so nested folders named like top-level ones are not confused with them.
 * Dynamic `import()` is not checked by this rule (scripts/import-graph.js counts it).
 */
export function layerLintConfigs(maxDepth = 5) {
  const configs = [];
  LAYER_ORDER.forEach((folder, i) => {
    const above = LAYER_ORDER.slice(i + 1);
    if (above.length === 0) return;
    for (let depth = 1; depth <= maxDepth; depth++) {
      const files = [`src/${folder}/${'*/'.repeat(depth - 1)}*.ts`];
      configs.push({
        files,
        // Tests may reach across layers (a contract suite run against the SQLite store); shipped code may not.
        ignores: ['**/*.test.ts'],
        rules: {
          'no-restricted-imports': [
            'error',
            {
              patterns: [
                {
                  regex: `^(\\.\\./){${depth}}(${above.map(escape).join('|')})/`,
                  message: `src/${folder} (${tierOf(folder)}) may import only from folders listed before it in layers.config.js: ${LAYER_ORDER.slice(0, i).join(', ') || 'none'}. Move the shared piece down, or pass it in.`,
                },
              ],
            },
          ],
        },
      });
    }
  });
  return configs;
}
