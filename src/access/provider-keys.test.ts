import { describe, expect, it } from 'vitest';
import { loadProviderKeys } from './provider-keys.js';

const OPENAI = 'sk-proj-' + 'a'.repeat(60);
const ANTHROPIC = 'sk-ant-api03-' + 'b'.repeat(80);

describe('loadProviderKeys', () => {
  it('selects the key per provider, from values and files, trimming a trailing newline', () => {
    const files: Record<string, string> = { '/run/secrets/anthropic': ANTHROPIC + '\n' };
    const ring = loadProviderKeys(
      [
        { provider: 'openai', value: OPENAI },
        { provider: 'anthropic', file: '/run/secrets/anthropic' },
      ],
      (p) => files[p] ?? '',
    );
    expect(ring.keyFor('openai')).toBe(OPENAI);
    expect(ring.keyFor('anthropic')).toBe(ANTHROPIC);
    expect(ring.providers()).toEqual(['openai', 'anthropic']);
    expect(ring.describe()).toEqual({ openai: 'sk-proj-', anthropic: 'sk-ant-a' });
    expect(() => ring.keyFor('mistral')).toThrow(
      expect.objectContaining({
        code: 'TG_ERR_CONFIG_INVALID',
        detail: { setting: 'provider_key', provider: 'mistral' },
      }),
    );
  });

  it.each([
    [[{ provider: 'openai', value: '  ' }], 'empty'],
    [[{ provider: 'openai', value: 'sk-abc def' }], 'whitespace_inside'],
    [
      [
        { provider: 'openai', value: OPENAI },
        { provider: 'openai', value: OPENAI },
      ],
      'duplicate',
    ],
  ])('refuses %j (%s) without echoing the key', (sources, problem) => {
    try {
      loadProviderKeys(sources);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'TG_ERR_CONFIG_INVALID', detail: { problem } });
      expect(JSON.stringify(err) + String(err)).not.toContain('sk-abc');
    }
  });

  it('reports an unreadable file by path', () => {
    expect(() => loadProviderKeys([{ provider: 'openai', file: '/nonexistent/tollgate/key' }])).toThrow(
      expect.objectContaining({
        code: 'TG_ERR_CONFIG_INVALID',
        detail: expect.objectContaining({ problem: 'file_unreadable' }),
      }),
    );
  });
});
