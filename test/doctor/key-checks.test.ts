import { describe, expect, it } from 'vitest';
import { presetByName } from '../../src/providers/registry.js';
import { checkKey, describeWhitespace, isPlaceholderKey } from '../../src/doctor/key-checks.js';

const openai = presetByName('openai');
const anthropic = presetByName('anthropic');
const OPENAI_KEY = 'sk-proj-' + 'Ab3dEf7h'.repeat(8);
const byId = (r: ReturnType<typeof checkKey>, id: string) => r.findings.find((f) => f.id === id);

describe('checkKey', () => {
  it('empty or blank key: one failure, nothing else to check', () => {
    for (const k of ['', ' \n']) {
      const r = checkKey(k, openai);
      expect(r.findings).toHaveLength(1);
      expect(r.findings[0]).toMatchObject({ id: 'key.present', level: 'fail', title: 'No API key' });
    }
  });

  it('a good key passes every check', () => {
    const r = checkKey(OPENAI_KEY, openai);
    expect(r.findings.every((f) => f.level === 'ok')).toBe(true);
    expect(r.probeKey).toBe(OPENAI_KEY);
  });

  it('says where the whitespace is: leading, trailing, embedded, invisible', () => {
    expect(describeWhitespace(' ab\tc\r\n')).toEqual([
      'leading space at position 1 of 7',
      'embedded tab (\\t) at position 4 of 7',
      'trailing carriage return (\\r) at position 6 of 7',
      'trailing newline (\\n) at position 7 of 7',
    ]);
    expect(describeWhitespace('ab\u200Bc')).toEqual([
      'embedded zero-width space (U+200B) at position 3 of 4',
    ]);
    const r = checkKey(`${OPENAI_KEY}\n`, openai);
    expect(byId(r, 'key.whitespace')).toMatchObject({ level: 'fail' });
    expect(r.probeKey).toBe(OPENAI_KEY);
  });

  it("recognises another provider's key by its more specific prefix", () => {
    const r = checkKey('sk-ant-api03-' + 'x1'.repeat(40), openai);
    expect(byId(r, 'key.prefix')).toMatchObject({
      level: 'fail',
      title: 'The key looks like a key for anthropic, not openai',
    });
  });

  it('an sk- key at Anthropic belongs to an sk- provider', () => {
    expect(byId(checkKey(OPENAI_KEY, anthropic), 'key.prefix')).toMatchObject({
      level: 'fail',
      title: 'The key looks like a key for openai or deepseek, not anthropic',
    });
  });

  it('a prefix no provider uses', () => {
    expect(byId(checkKey('org-' + 'Ab3dEf7h'.repeat(6), openai), 'key.prefix')).toMatchObject({
      level: 'fail',
      title: 'Unexpected prefix for openai',
    });
  });

  it('a Tollgate key sent to a provider', () => {
    expect(byId(checkKey('tg-' + 'a1'.repeat(22), openai), 'key.prefix')).toMatchObject({
      level: 'fail',
      title: 'This is a Tollgate gateway key',
    });
  });

  it('too short', () => {
    expect(byId(checkKey('sk-proj-abc123', openai), 'key.length')).toMatchObject({
      level: 'fail',
      detail: '14 characters; openai keys are at least 40.',
    });
  });

  it('quoted keys and placeholders', () => {
    const quoted = checkKey(`"${OPENAI_KEY}"`, openai);
    expect(byId(quoted, 'key.quotes')?.level).toBe('fail');
    expect(quoted.probeKey).toBe(OPENAI_KEY);
    for (const p of [
      '${OPENAI_API_KEY}',
      '<your-api-key>',
      'sk-...',
      'sk-xxxxxxxxxxxxxxxx',
      'sk-proj-********',
      'your_api_key_here',
    ]) {
      expect(isPlaceholderKey(p), p).toBe(true);
    }
    expect(isPlaceholderKey(OPENAI_KEY)).toBe(false);
    expect(isPlaceholderKey('sk-proj-xxxxxxAb3dEf7h')).toBe(false);
  });
});
