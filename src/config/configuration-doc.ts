/**
 * docs/configuration.md, rendered from the config schema: every key with its type, default,
 * environment variable and doc line. `npm run docs:config` writes it; configuration-doc.test.ts
 * fails when the file and the schema disagree.
 */
import { CONFIG_FIELDS, CONFIG_SECTIONS, type ConfigField, type ConfigSection } from './config-fields.js';

const HEADER = `# Configuration

<!-- Generated from src/config/config-schema.ts by \`npm run docs:config\`; do not edit by hand. -->

Tollgate reads its settings from three places, each overriding the one before:

1. the config file: \`tollgate.config.yaml\` in the working folder, or \`--config FILE\`;
2. environment variables (\`TOLLGATE_*\`, listed below beside the key each sets);
3. command-line flags (\`tollgate serve --port 9000\`, \`--db\`, …).

Keys in the file are snake_case and nest as shown (\`retry.max_retries\` is \`max_retries:\` under
\`retry:\`). A section left empty (\`alerts:\` with nothing under it) keeps its defaults.
Environment and flag values are text and take the key's type (\`TOLLGATE_PORT=9000\`,
\`TOLLGATE_TRUST_PROXY=true\`); in the file, a value must already have the right type.

An unknown key or a wrong type stops Tollgate before it starts: \`TG_ERR_CONFIG_INVALID\`, exit
code 2, and one line naming the key by its full path, what was wrong, where the value came from
and, for a misspelt key, the nearest valid one:

\`\`\`
tollgate: TG_ERR_CONFIG_INVALID: configuration is invalid (field: failure_polcy, problem: unknown key, did_you_mean: failure_policy, from: tollgate.config.yaml)
\`\`\`
`;

function typeOf(f: ConfigField): string {
  const base =
    f.kind === 'enum' ? f.values.map((v) => `\`${v}\``).join(', ') : f.kind === 'other' ? 'value' : f.kind;
  return f.nullable ? `${base} or null` : base;
}

function valueOf(v: unknown): string {
  if (v === undefined) return '';
  return `\`${JSON.stringify(v)}\``;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(section: ConfigSection): string[] {
  const depth = section.path.length;
  const rows = CONFIG_FIELDS.filter(
    (f) => f.path.length === depth + 1 && section.path.every((p, i) => f.path[i] === p),
  );
  if (rows.length === 0) return [];
  return [
    '| key | type | default | environment | description |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (f) =>
        `| \`${f.path.join('.')}\` | ${cell(typeOf(f))} | ${cell(valueOf(f.default))} | ${
          f.env ? `\`${f.env}\`` : ''
        } | ${cell(f.description)} |`,
    ),
  ];
}

/** The whole page, as docs/configuration.md holds it. */
export function renderConfigurationDoc(): string {
  const out = [HEADER];
  for (const s of CONFIG_SECTIONS) {
    const lines = table(s);
    if (lines.length === 0 && !s.description) continue;
    const title = s.path.length === 0 ? 'Top level' : `\`${s.path.join('.')}\``;
    out.push(`${s.path.length > 1 ? '###' : '##'} ${title}`, '');
    if (s.description) out.push(`${s.description}${s.description.endsWith('.') ? '' : '.'}`, '');
    if (lines.length > 0) out.push(...lines, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
