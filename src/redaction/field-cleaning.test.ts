import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { blankEvent } from '../core/audit-event.js';
import { FakeData, seededRandom } from '../../test/redaction-corpus/fake-secrets.js';
import {
  CLEANED_FIELDS,
  PRE_BOUND,
  createFieldCleaner,
  cutToBound,
  type CleanedField,
} from './field-cleaning.js';

const fake = new FakeData(seededRandom(17));

/** The random tail of a planted key: what must never show in a stored value. */
function distinctive(secret: string): string {
  return secret.slice(-16);
}

describe('field cleaning', () => {
  const cleaner = createFieldCleaner();

  it('redacts a secret before the bound, wherever it stands across the cut', () => {
    for (const field of Object.keys(CLEANED_FIELDS) as CleanedField[]) {
      const bound = CLEANED_FIELDS[field].bound;
      for (let at = Math.max(0, bound - 60); at <= bound + 2; at++) {
        const key = fake.openaiKey();
        const value = `${'a'.repeat(at)} ${key} tail`;
        const out = cleaner.cleanValue(field, value);
        expect(out.length, field).toBeLessThanOrEqual(bound);
        expect(out, `${field} at ${at}`).not.toContain(distinctive(key));
        for (let i = 0; i + 8 <= key.length - 8; i += 4) {
          // No 12-character run of the key survives either (its first characters included).
          expect(out).not.toContain(key.slice(Math.max(8, i), Math.max(8, i) + 12));
        }
      }
    }
  });

  it('makes values well-formed and neutralises C0, C1, separators and bidi controls', () => {
    expect(cleaner.cleanValue('user_agent', 'a\ud800b\udfffc')).toBe('a\ufffdb\ufffdc');
    expect(cleaner.cleanValue('endpoint', 'x\u0085y\u009b31mz\r\nw\u202eq\u2028r')).toBe('x y 31mz w q r');
    expect(cleaner.cleanValue('request_id', '\u0000\u001b')).toBe('');
  });

  it('never cuts inside a surrogate pair', () => {
    const v = 'x'.repeat(199) + '\u{1F600}'.repeat(10);
    const out = cutToBound(v, 201);
    expect(out.isWellFormed()).toBe(true);
    expect(out.endsWith('…')).toBe(true);
    expect(cleaner.cleanValue('model_requested', 'm'.repeat(198) + '\u{1F600}\u{1F600}').isWellFormed()).toBe(
      true,
    );
  });

  it('removes personal data from a provider error in redacted mode, keeps it in full mode', () => {
    const msg = 'User jane.doe@example.com is over quota; call +1 415 555 0100';
    expect(cleaner.cleanValue('error_message', msg)).not.toContain('jane.doe@example.com');
    const full = createFieldCleaner({ mode: 'full' });
    expect(full.cleanValue('error_message', msg)).toContain('jane.doe@example.com');
    // Ids are the app's own names for people: kept (they are what erasure and reports key on).
    expect(cleaner.cleanValue('user_id', 'jane.doe@example.com')).toBe('jane.doe@example.com');
  });

  it("keeps no masked key tail from a provider's 401 text", () => {
    const text =
      'Incorrect API key provided: sk-proj-abcd****************************************WXYZ. You can find your API key at https://platform.openai.com/account/api-keys.';
    const out = cleaner.cleanValue('error_message', text);
    expect(out).not.toContain('WXYZ');
    expect(out).not.toContain('abcd');
    expect(out).toContain('[REDACTED:masked_key]');
  });

  it('cleans every field of an event in place and counts what it redacted', () => {
    const e = blankEvent({ id: 'id-1', timestamp: '2026-01-01T00:00:00.000Z', source: 'gateway' });
    const key = fake.awsAccessKey();
    e.model_requested = `gpt-4o ${key}`;
    e.endpoint = `/chat/completions/${fake.githubToken()}`;
    e.request_id = `r ${fake.openaiKey()}`;
    e.user_agent = 'ua\u0085';
    e.error_message = 'x'.repeat(5000);
    e.redactions = [{ type: 'email', count: 2 }];
    cleaner.clean(e);
    expect(e.model_requested).toBe('gpt-4o [REDACTED:aws_access_key]');
    expect(e.endpoint).toBe('/chat/completions/[REDACTED:github_token]');
    expect(e.request_id).toBe('r [REDACTED:openai_key]');
    expect(e.user_agent).toBe('ua');
    expect(e.error_message).toHaveLength(1024);
    expect(e.redactions).toEqual([
      { type: 'aws_access_key', count: 1 },
      { type: 'email', count: 2 },
      { type: 'github_token', count: 1 },
      { type: 'openai_key', count: 1 },
    ]);
  });

  it('cleans a repeated value the same way every time, and redacts a repeated secret every time', () => {
    const c = createFieldCleaner();
    const key = fake.openaiKey();
    for (let i = 0; i < 3; i++) {
      const e = blankEvent({ id: `id-${i}`, timestamp: '2026-01-01T00:00:00.000Z', source: 'gateway' });
      e.user_agent = 'ua\u0085x';
      e.model_requested = 'gpt-4.1-mini';
      e.user_id = `u ${key}`;
      c.clean(e);
      expect(e.user_agent).toBe('ua x');
      expect(e.model_requested).toBe('gpt-4.1-mini');
      expect(e.user_id).toBe('u [REDACTED:openai_key]');
      expect(e.redactions).toEqual([{ type: 'openai_key', count: 1 }]);
    }
    // More distinct values than the cache keeps: each still comes out as cleaned the first time.
    for (let i = 0; i < 1500; i++) expect(c.cleanValue('session_id', `s\u0000${i}`)).toBe(`s ${i}`);
    expect(c.cleanValue('session_id', 's\u00007')).toBe('s 7');
  });

  it('takes a huge value in bounded time and keeps no token cut at the pre-bound', () => {
    const key = fake.openaiKey();
    const v = 'word '.repeat(PRE_BOUND / 5 - 10) + 'abc' + key + ' more';
    const out = cleaner.cleanValue('error_message', v + 'z'.repeat(100_000));
    expect(out).toHaveLength(1024);
    expect(cleaner.cleanValue('model_requested', 'm'.repeat(200_000))).toBe('');
  });

  it('docs/privacy.md lists every cleaned field with its bound', () => {
    const doc = readFileSync(new URL('../../docs/privacy.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### Fields around the content'));
    const rows = new Map<string, number>();
    for (const m of section.matchAll(/^\| `([a-z_]+)` \|.*\| (\d+) \|$/gm)) rows.set(m[1]!, Number(m[2]));
    expect(Object.fromEntries(rows)).toEqual(
      Object.fromEntries(Object.entries(CLEANED_FIELDS).map(([f, r]) => [f, r.bound])),
    );
  });
});
