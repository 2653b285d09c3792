import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { readFileSync } from 'node:fs';
import { isTollgateError } from '../core/errors.js';
import {
  createCatalog,
  defaultCatalogPath,
  loadCatalogFile,
  loadPriceCatalog,
  mergeCatalogs,
  parseCatalog,
} from './catalog.js';

const shipped = loadCatalogFile(defaultCatalogPath());
const at = Date.UTC(2026, 0, 10);

function row(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    provider: 'x',
    model: 'm',
    input: 1,
    output: 2,
    effective_from: '2025-01-01',
    source: 'doc',
    ...extra,
  };
}

function expectInvalid(fn: () => unknown, reason: RegExp | string): void {
  try {
    fn();
  } catch (err) {
    expect(isTollgateError(err)).toBe(true);
    if (isTollgateError(err)) {
      expect(err.code).toBe('TG_ERR_CONFIG_INVALID');
      expect(String(err.detail?.reason ?? '')).toMatch(reason);
    }
    return;
  }
  throw new Error('expected the catalog to be refused');
}

describe('shipped catalog schema', () => {
  const raw = parseYaml(readFileSync(defaultCatalogPath(), 'utf8')) as { models: Record<string, unknown>[] };

  it('has a version and every row has a source and an effective date', () => {
    expect(shipped.version).toMatch(/\S/);
    expect(raw.models.length).toBeGreaterThan(20);
    for (const r of raw.models) {
      expect(typeof r.source === 'string' && r.source.trim().length > 5, `source of ${String(r.model)}`).toBe(
        true,
      );
      expect(String(r.effective_from)).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it('prices the audio and image models and Gemini long context (issue 18)', () => {
    const c = createCatalog(shipped);
    for (const m of ['whisper-1', 'tts-1', 'tts-1-hd', 'dall-e-2', 'dall-e-3'])
      expect(Object.keys(c.resolve(m, at)?.units ?? {}).length, m).toBeGreaterThan(0);
    for (const m of ['gpt-4o-transcribe', 'gpt-4o-mini-transcribe'])
      expect(c.resolve(m, at)?.audio_input, m).toBeGreaterThan(c.resolve(m, at)!.input!);
    expect(c.resolve('gpt-image-1', at)?.image_input).toBe(10_000_000);
    expect(c.resolve('gpt-4o-mini-tts', at)).toMatchObject({ input: 600_000, output: 12_000_000 });
    expect(c.resolve('gemini-2.5-pro', at)?.long_context).toMatchObject({ above_input_tokens: 200_000 });
    expect(c.resolve('text-embedding-ada-002', at)?.input).toBe(100_000);
  });

  it('has no duplicate model + effective_from', () => {
    const keys = shipped.rows.map((r) => `${r.model}@${r.effective_from}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('covers OpenAI, Anthropic, Google and DeepSeek', () => {
    expect(new Set(shipped.rows.map((r) => r.provider))).toEqual(
      new Set(['openai', 'anthropic', 'google', 'deepseek']),
    );
  });

  it.each([
    ['gpt-4.1', 2_000_000, 8_000_000],
    ['claude-sonnet-4.5', 3_000_000, 15_000_000],
    ['gemini-2.5-flash', 300_000, 2_500_000],
    ['deepseek-v3.2', 100_000, 420_000],
  ])('seed row %s is exactly %i / %i micro-USD per million', (model, input, output) => {
    const rows = shipped.rows.filter((r) => r.model === model);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.input).toBe(input);
    expect(rows[0]!.output).toBe(output);
  });
});

describe('catalog validation', () => {
  it('refuses a row without a source', () => {
    expectInvalid(
      () => parseCatalog({ version: 'v', models: [row({ source: undefined })] }, 't'),
      /non-empty/,
    );
  });
  it('refuses a row without a date or with an impossible date', () => {
    expectInvalid(
      () => parseCatalog({ version: 'v', models: [row({ effective_from: undefined })] }, 't'),
      /YYYY-MM-DD/,
    );
    expectInvalid(
      () => parseCatalog({ version: 'v', models: [row({ effective_from: '2025-02-30' })] }, 't'),
      /calendar/,
    );
  });
  it('refuses duplicate model + effective_from', () => {
    expectInvalid(() => parseCatalog({ version: 'v', models: [row(), row({ input: 3 })] }, 't'), /duplicate/);
  });
  it('accepts the same model on two dates', () => {
    const data = parseCatalog({ version: 'v', models: [row(), row({ effective_from: '2025-06-01' })] }, 't');
    expect(data.rows).toHaveLength(2);
  });
  it('refuses a name shared by two models', () => {
    expectInvalid(
      () =>
        parseCatalog(
          { version: 'v', models: [row({ aliases: ['x'] }), row({ model: 'n', aliases: ['x'] })] },
          't',
        ),
      /another model/,
    );
  });
  it('refuses unknown fields, negative prices and sub-micro precision', () => {
    expectInvalid(
      () => parseCatalog({ version: 'v', models: [row({ cached_inpt: 1 })] }, 't'),
      /unknown field/,
    );
    expectInvalid(() => parseCatalog({ version: 'v', models: [row({ input: -1 })] }, 't'), /non-negative/);
    expectInvalid(
      () => parseCatalog({ version: 'v', models: [row({ input: 0.0000001 })] }, 't'),
      /6 decimals/,
    );
  });
  it('refuses a catalog without a version', () => {
    expectInvalid(() => parseCatalog({ models: [row()] }, 't'), /non-empty/);
  });
  it('converts prices to integer micro-USD per million without float drift', () => {
    const data = parseCatalog(
      { version: 'v', models: [row({ input: 0.075, output: 0.275, cached_input: 0.028 })] },
      't',
    );
    expect(data.rows[0]).toMatchObject({ input: 75_000, output: 275_000, cached_input: 28_000 });
  });
  it('reads unit prices as published ({usd, per}) into micro-USD per million units', () => {
    const unitRow = { provider: 'x', model: 'w', effective_from: '2025-01-01', source: 'doc' };
    const data = parseCatalog(
      {
        version: 'v',
        models: [
          { ...unitRow, units: { audio_second: { usd: 0.006, per: 60 }, image_1024x1024_hd: { usd: 0.08 } } },
        ],
      },
      't',
    );
    expect(data.rows[0]).toMatchObject({
      input: null,
      output: null,
      units: {
        audio_second: { usd: 0.006, per: 60, rate: 100_000_000 },
        image_1024x1024_hd: { usd: 0.08, per: 1, rate: 80_000_000_000 },
      },
    });
    // A row without token rates must bill units; a unit price must be exact per unit.
    expectInvalid(() => parseCatalog({ version: 'v', models: [unitRow] }, 't'), /non-negative number/);
    expectInvalid(
      () =>
        parseCatalog(
          { version: 'v', models: [{ ...unitRow, units: { sec: { usd: 0.000001, per: 7 } } }] },
          't',
        ),
      /whole number/,
    );
    expectInvalid(
      () => parseCatalog({ version: 'v', models: [{ ...unitRow, units: { 'Audio-Sec': { usd: 1 } } }] }, 't'),
      /lower_snake_case/,
    );
    expectInvalid(
      () =>
        parseCatalog({ version: 'v', models: [{ ...unitRow, units: { sec: { usd: 1, each: 2 } } }] }, 't'),
      /usd, per/,
    );
  });
});

describe('resolution', () => {
  const catalog = createCatalog(shipped);

  it.each([
    ['gpt-4.1', 'gpt-4.1'],
    ['gpt-4.1-2025-04-14', 'gpt-4.1'],
    ['GPT-4.1', 'gpt-4.1'],
    ['openai/gpt-4.1', 'gpt-4.1'],
    ['gpt-4.1-mini-2025-04-14', 'gpt-4.1-mini'],
    ['claude-sonnet-4-5', 'claude-sonnet-4.5'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4.5'],
    ['anthropic/claude-sonnet-4.5', 'claude-sonnet-4.5'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4.5'],
    ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4.5'],
    ['models/gemini-2.5-flash', 'gemini-2.5-flash'],
    ['google/gemini-2.5-flash', 'gemini-2.5-flash'],
    ['deepseek-v3-2', 'deepseek-v3.2'],
    ['gpt-4o-2024-05-13', 'gpt-4o-2024-05-13'],
    ['gpt-4o-2024-11-20', 'gpt-4o'],
  ])('%s resolves to %s', (reported, model) => {
    expect(catalog.resolve(reported, at)?.model).toBe(model);
  });

  it('unknown models resolve to null', () => {
    expect(catalog.resolve('my-finetune-7b', at)).toBeNull();
    expect(catalog.resolve('', at)).toBeNull();
    expect(catalog.resolve('gpt-4.1', Number.NaN)).toBeNull();
  });

  it('chooses the row effective at the event time', () => {
    expect(catalog.resolve('o3', Date.UTC(2025, 4, 1))?.input).toBe(10_000_000);
    expect(catalog.resolve('o3', Date.UTC(2025, 5, 9, 23, 59))?.input).toBe(10_000_000);
    expect(catalog.resolve('o3', Date.UTC(2025, 5, 10))?.input).toBe(2_000_000);
    expect(catalog.resolve('o3-2025-04-16', Date.UTC(2026, 0, 1))?.input).toBe(2_000_000);
  });

  it('has no price before a model first had one', () => {
    expect(catalog.resolve('gpt-5', Date.UTC(2025, 0, 1))).toBeNull();
  });
});

describe('override from config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-prices-'));
  const overridePath = join(dir, 'override.yaml');
  writeFileSync(
    overridePath,
    [
      "version: 'acme-1'",
      'models:',
      '  - { provider: openai, model: gpt-4.1, input: 1.50, output: 6.00, cached_input: 0.40, effective_from: "2025-04-14", source: "ACME enterprise agreement 2025" }',
      '  - { provider: acme, model: acme-llm, aliases: [acme/llm-v1], input: 0.20, output: 0.20, effective_from: "2025-01-01", source: "internal price sheet" }',
    ].join('\n'),
  );

  it('replaces rows with the same model and date, adds new ones, and names both versions', () => {
    const catalog = loadPriceCatalog({ overridePath });
    expect(catalog.version).toBe(`${shipped.version}+acme-1`);
    expect(catalog.resolve('gpt-4.1-2025-04-14', at)).toMatchObject({
      input: 1_500_000,
      cached_input: 400_000,
    });
    expect(catalog.resolve('acme/llm-v1', at)?.model).toBe('acme-llm');
    expect(catalog.resolve('claude-sonnet-4.5', at)?.input).toBe(3_000_000);
  });

  it('refuses an override that steals another model name', () => {
    const bad = parseCatalog(
      { version: 'b', models: [row({ model: 'mine', aliases: ['gpt-4.1'] })] },
      'bad-override',
    );
    expectInvalid(() => mergeCatalogs(shipped, bad), /another model/);
  });
});
