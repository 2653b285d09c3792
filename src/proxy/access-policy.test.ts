import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { TollgateError } from '../core/errors.js';
import { managedProviderKey } from './access-policy.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-managed-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keyFile = join(dir, 'provider.key');
writeFileSync(keyFile, 'sk-proj-FILEkey0123456789abcdef\n');

const provider = (name: string, key_file?: string) => ({
  name,
  api: 'openai',
  base_url: `https://${name}.example/v1`,
  ...(key_file ? { key_file } : {}),
});

/** The error managedProviderKey throws for a config, or null. */
function refusal(overrides: Record<string, unknown>): TollgateError | null {
  try {
    managedProviderKey(loadConfig({ overrides: { mode: 'managed', ...overrides } }));
    return null;
  } catch (err) {
    if (err instanceof TollgateError) return err;
    throw err;
  }
}

describe('managed mode: the held provider key', () => {
  it('is not required when every provider has its own key_file', () => {
    const config = loadConfig({
      overrides: { mode: 'managed', providers: [provider('a', keyFile), provider('b', keyFile)] },
    });
    expect(managedProviderKey(config)).toBeNull();
  });

  it('is required, naming the providers without a key_file, when some lack one', () => {
    const err = refusal({ providers: [provider('a', keyFile), provider('relay'), provider('gemini')] });
    expect(err?.code).toBe('TG_ERR_CONFIG_INVALID');
    expect(err?.detail).toEqual({
      setting: 'managed.provider_key_file or TOLLGATE_PROVIDER_KEY',
      providers_without_key_file: 'relay, gemini',
    });
  });

  it('is required for the single upstream (--upstream, no providers list)', () => {
    const err = refusal({});
    expect(err?.code).toBe('TG_ERR_CONFIG_INVALID');
    expect(err?.detail).toEqual({ setting: 'managed.provider_key_file or TOLLGATE_PROVIDER_KEY' });
  });

  it('is read from managed.provider_key_file or managed.provider_key when given', () => {
    expect(managedProviderKey(loadConfig({ overrides: { 'managed.provider_key_file': keyFile } }))).toBe(
      'sk-proj-FILEkey0123456789abcdef',
    );
    expect(
      managedProviderKey(
        loadConfig({
          overrides: { 'managed.provider_key': 'sk-proj-VALUEkey0123', providers: [provider('relay')] },
        }),
      ),
    ).toBe('sk-proj-VALUEkey0123');
  });
});
