import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { isTollgateError } from '../core/errors.js';
import { createContentCipher } from '../privacy/content-cipher.js';
import { InMemoryDataKeyStore } from '../privacy/data-key-store.js';
import { FakeData, seededRandom } from '../../test/redaction-corpus/fake-secrets.js';
import { createRedactor, type ContentEncryptor } from './redactor.js';
import { testEvent } from '../../test/support/test-event.js';

const fake = new FakeData(seededRandom(42));

describe('createRedactor', () => {
  it('defaults to redacted mode: secrets and personal data replaced, counts sorted by type', () => {
    const key = fake.openaiKey();
    const e = testEvent();
    createRedactor().apply(e, {
      prompt: `use ${key} and mail bob@example.com`,
      response: 'call (415) 555-2671 or bob@example.com',
    });
    expect(e.content_mode).toBe('redacted');
    expect(e.prompt).toBe('use [REDACTED:openai_key] and mail [REDACTED:email]');
    expect(e.response).toBe('call [REDACTED:phone] or [REDACTED:email]');
    expect(e.redactions).toEqual([
      { type: 'email', count: 2 },
      { type: 'openai_key', count: 1 },
      { type: 'phone', count: 1 },
    ]);
  });

  it('full mode keeps personal data but never a secret', () => {
    const key = fake.githubToken();
    const e = testEvent();
    createRedactor({ mode: 'full' }).apply(e, { prompt: `token ${key} for bob@example.com`, response: null });
    expect(e.prompt).toBe('token [REDACTED:github_token] for bob@example.com');
    expect(e.response).toBeNull();
  });

  it('none mode stores a digest and the length only', () => {
    const e = testEvent();
    createRedactor({ mode: 'none' }).apply(e, { prompt: 'héllo bob@example.com', response: '' });
    expect(e.prompt).toMatch(/^sha256:[0-9a-f]{64}:len=22$/);
    expect(e.response).toMatch(/^sha256:[0-9a-f]{64}:len=0$/);
    expect(e.prompt).not.toContain('bob');
    expect(e.redactions).toEqual([{ type: 'email', count: 1 }]);
  });

  it('redacts a secret split across two SSE chunks once the response is assembled', () => {
    const key = fake.anthropicKey();
    const chunks = [`Your key is ${key.slice(0, 30)}`, `${key.slice(30)} — keep it safe.`];
    const e = testEvent({ stream: true });
    createRedactor().apply(e, { prompt: null, response: chunks.join('') });
    expect(e.response).toBe('Your key is [REDACTED:anthropic_key] — keep it safe.');
    expect(e.response).not.toContain(key.slice(0, 30));
  });

  it('redacts secrets in tool-call arguments (JSON-escaped)', () => {
    const pw = fake.password();
    const e = testEvent();
    createRedactor().apply(e, {
      prompt: null,
      response: `{"name":"db","arguments":"{\\"password\\": \\"${pw}\\"}"}`,
    });
    expect(e.response).not.toContain(pw);
    expect(e.redactions).toEqual([{ type: 'password', count: 1 }]);
  });

  it('its field cleaning cleans header-derived fields and error_message: secrets, no control characters', () => {
    const key = fake.stripeKey();
    const e = testEvent({
      user_agent: `curl/8.0\r\nX-Forged: 1 ${key}`,
      user_id: 'alice\nINFO admin logged in',
      session_id: 's-1\u2028x',
      feature_name: 'chat\u202e',
      team: 'bob@example.com',
      request_source: 'cron\u0000',
      error_message: `upstream said: invalid key ${key}\nretry`,
    });
    // The pipeline runs the field cleaning (field-cleaning.ts), then the redactor adds its counts.
    const r = createRedactor();
    r.fields.clean(e);
    r.apply(e, { prompt: null, response: null });
    expect(e.user_agent).toBe('curl/8.0 X-Forged: 1 [REDACTED:stripe_key]');
    expect(e.user_id).toBe('alice INFO admin logged in');
    expect(e.session_id).toBe('s-1 x');
    expect(e.feature_name).toBe('chat');
    expect(e.team).toBe('bob@example.com'); // secrets only in header fields
    expect(e.request_source).toBe('cron');
    expect(e.error_message).toBe('upstream said: invalid key [REDACTED:stripe_key] retry');
    expect(e.redactions).toEqual([{ type: 'stripe_key', count: 2 }]);
  });

  it('applies per-feature and per-key overrides, the key winning', () => {
    const r = createRedactor({
      mode: 'redacted',
      perFeature: { support: { mode: 'none' }, search: { detectors: { email: false } } },
      perKey: { vk_1: { mode: 'full' } },
    });
    const a = testEvent({ feature_name: 'support' });
    r.apply(a, { prompt: 'x', response: null });
    expect(a.content_mode).toBe('none');
    const b = testEvent({ feature_name: 'support', virtual_key_id: 'vk_1' });
    r.apply(b, { prompt: 'mail bob@example.com', response: null });
    expect(b.content_mode).toBe('full');
    expect(b.prompt).toBe('mail bob@example.com');
    const c = testEvent({ feature_name: 'search' });
    r.apply(c, { prompt: 'mail bob@example.com, call (415) 555-2671', response: null });
    expect(c.prompt).toBe('mail bob@example.com, call [REDACTED:phone]');
  });

  it('rejects unknown detector names and encrypted mode without an encryptor', () => {
    const bad = (f: () => unknown, code: string): void => {
      try {
        f();
        expect.unreachable();
      } catch (err) {
        expect(isTollgateError(err) && err.code).toBe(code);
      }
    };
    bad(
      () => createRedactor({ mode: 'redacted', detectors: { emial: false } as never }),
      'TG_ERR_CONFIG_INVALID',
    );
    bad(() => createRedactor({ mode: 'encrypted' }), 'TG_ERR_CRYPTO_KEY_MISSING');
  });

  it('encrypted mode: secrets redacted first, then encrypted per person', async () => {
    const cipher = createContentCipher({
      masterKey: Buffer.alloc(32, 7),
      store: new InMemoryDataKeyStore(),
      clock: new ManualClock(),
    });
    const key = fake.awsAccessKey();
    const e = testEvent({ user_id: 'u-1' });
    createRedactor({ mode: 'encrypted' }, { encryptor: cipher }).apply(e, {
      prompt: `aws ${key} for bob@example.com`,
      response: null,
    });
    expect(e.content_mode).toBe('encrypted');
    expect(e.prompt).toMatch(/^enc:v1:[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(await cipher.decryptContent(e.prompt!)).toBe('aws [REDACTED:aws_access_key] for bob@example.com');
    expect(e.redactions).toEqual([{ type: 'aws_access_key', count: 1 }]);
  });

  it('falls back to none (never to clear text) when encryption fails', () => {
    const failing: ContentEncryptor = {
      encryptFor: () => {
        throw new Error('key store down');
      },
    };
    const e = testEvent();
    createRedactor({ mode: 'encrypted' }, { encryptor: failing }).apply(e, {
      prompt: 'secret plan',
      response: null,
    });
    expect(e.content_mode).toBe('none');
    expect(e.prompt).toMatch(/^sha256:/);
  });

  it('finishes on 1 MB of adversarial near-matches per detector, with the right result', () => {
    const r = createRedactor();
    const nearMisses = [
      'sk-' + 'a'.repeat(31) + ' ',
      'sk-proj-' + 'A'.repeat(39) + ' ',
      'AKIA' + 'A'.repeat(15) + ' ',
      'xoxb-12345-',
      'eyJ' + 'a'.repeat(14) + '.eyJ.',
      '-----BEGIN A PRIVATE KEY-----',
      'postgres://u:',
      'password=',
      'token: ab ',
      'a@',
      '1-',
      '(1 ',
      'DE89 ',
      '::',
      '1.2.3.',
    ];
    for (const unit of nearMisses) {
      const text = unit.repeat(Math.ceil(1_000_000 / unit.length)).slice(0, 1_000_000);
      const out = r.redactText(text);
      // Nothing in these inputs is a full secret or valid personal datum.
      expect(out.redactions, JSON.stringify(unit)).toEqual([]);
      expect(out.text.length).toBe(text.length);
    }
    // And a real secret at the end of a megabyte of near-matches is still found.
    const key = fake.openaiKey();
    const tail = r.redactText('sk-'.repeat(300_000) + ' ' + key);
    expect(tail.redactions).toEqual([{ type: 'openai_key', count: 1 }]);
    // ~4 s of CPU alone; the bound is generous for a loaded 2-core CI machine. bench/redaction.bench.ts has the timings.
  }, 180_000);
});
