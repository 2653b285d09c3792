import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { authenticateRequest, extractApiKey, queryApiKey, withoutQueryApiKey } from './authenticate.js';
import { KeyFingerprinter, keyFingerprint } from './key-fingerprint.js';
import { MemoryKeyStore } from './memory-key-store.js';
import { createKey } from './virtual-keys.js';

const SECRET = 'fingerprint-secret-for-tests';
const FP = new KeyFingerprinter(SECRET);

async function setup(input: Parameters<typeof createKey>[2] = { name: 'app' }) {
  const store = new MemoryKeyStore();
  const clock = new ManualClock();
  const created = await createKey(store, clock, input);
  return { store, clock, ...created };
}

describe('authenticateRequest', () => {
  it('MISSING when no key is presented (and an empty Bearer is no key)', async () => {
    const { store, clock } = await setup();
    for (const headers of [{}, { authorization: 'Bearer ' }, { 'x-api-key': '  ' }]) {
      const d = await authenticateRequest(headers, store, clock, 'gpt-4o', FP);
      expect(d).toMatchObject({
        ok: false,
        status: 'AUTH_FAILED',
        errorCode: 'TG_ERR_AUTH_MISSING',
        httpStatus: 401,
      });
      expect(d.fields).toEqual({
        auth_method: 'none',
        auth_result: 'MISSING',
        api_key_id: null,
        api_key_prefix: null,
        virtual_key_id: null,
      });
    }
  });

  it('FAILED for an unknown key, with its fingerprint and prefix but no key id', async () => {
    const { store, clock } = await setup();
    const unknown = 'tg-' + 'A'.repeat(43);
    const d = await authenticateRequest({ authorization: `Bearer ${unknown}` }, store, clock, 'gpt-4o', FP);
    expect(d).toMatchObject({
      ok: false,
      status: 'AUTH_FAILED',
      errorCode: 'TG_ERR_AUTH_INVALID',
      key: null,
    });
    expect(d.fields).toEqual({
      auth_method: 'bearer',
      auth_result: 'FAILED',
      api_key_id: keyFingerprint(SECRET, unknown),
      api_key_prefix: 'tg-AAAAA',
      virtual_key_id: null,
    });
  });

  it('FAILED for an unsupported Authorization scheme', async () => {
    const { store, clock, key } = await setup();
    const d = await authenticateRequest({ authorization: `Basic ${key}` }, store, clock, 'gpt-4o', FP);
    expect(d).toMatchObject({
      ok: false,
      errorCode: 'TG_ERR_AUTH_INVALID',
      fields: { auth_method: 'unsupported', auth_result: 'FAILED' },
    });
  });

  it('SUCCESS with Bearer (any scheme case) and with x-api-key, and records last use', async () => {
    const { store, clock, key, record } = await setup();
    for (const headers of [
      { authorization: `Bearer ${key}` },
      { authorization: `bearer ${key}` },
      new Headers({ 'x-api-key': key }),
    ]) {
      const d = await authenticateRequest(headers, store, clock, 'gpt-4o', FP);
      expect(d.ok).toBe(true);
      expect(d.fields).toEqual({
        auth_method: headers instanceof Headers ? 'x-api-key' : 'bearer',
        auth_result: 'SUCCESS',
        api_key_id: keyFingerprint(SECRET, key),
        api_key_prefix: record.displayPrefix,
        virtual_key_id: record.id,
      });
    }
    expect((await store.findById(record.id))?.lastUsedAt).toBe(clock.now());
  });

  it('REVOKED from the very next request after revoke', async () => {
    const { store, clock, key, record } = await setup();
    const headers = { authorization: `Bearer ${key}` };
    expect((await authenticateRequest(headers, store, clock, 'm', FP)).ok).toBe(true);
    await store.revoke(record.id, clock.now());
    const d = await authenticateRequest(headers, store, clock, 'm', FP);
    expect(d).toMatchObject({
      ok: false,
      status: 'AUTH_FAILED',
      errorCode: 'TG_ERR_AUTH_REVOKED',
      fields: { auth_result: 'REVOKED', virtual_key_id: record.id },
    });
  });

  it('EXPIRED at expiresAt, not a millisecond before', async () => {
    const { store, clock, key, record } = await setup({ name: 'temp', expiresAt: Date.UTC(2026, 0, 2) });
    const headers = { 'x-api-key': key };
    clock.set(Date.UTC(2026, 0, 2) - 1);
    expect((await authenticateRequest(headers, store, clock, 'm', FP)).ok).toBe(true);
    clock.advance(1);
    const d = await authenticateRequest(headers, store, clock, 'm', FP);
    expect(d).toMatchObject({
      ok: false,
      errorCode: 'TG_ERR_AUTH_EXPIRED',
      fields: { auth_result: 'EXPIRED', auth_method: 'x-api-key', virtual_key_id: record.id },
    });
  });

  it('BLOCKED for a model not on the allow-list; the key itself was good', async () => {
    const { store, clock, key } = await setup({ name: 'mini-only', allowedModels: ['gpt-4o-mini'] });
    const headers = { authorization: `Bearer ${key}` };
    expect((await authenticateRequest(headers, store, clock, 'gpt-4o-mini', FP)).ok).toBe(true);
    for (const model of ['gpt-4o', null]) {
      const d = await authenticateRequest(headers, store, clock, model, FP);
      expect(d).toMatchObject({
        ok: false,
        status: 'BLOCKED',
        errorCode: 'TG_ERR_POLICY_MODEL_NOT_ALLOWED',
        httpStatus: 403,
        fields: { auth_result: 'SUCCESS' },
      });
    }
  });

  it('revoked wins over expired', async () => {
    const { store, clock, key, record } = await setup({ name: 'x', expiresAt: Date.UTC(2026, 0, 2) });
    await store.revoke(record.id, clock.now());
    clock.set(Date.UTC(2026, 0, 3));
    expect(
      (await authenticateRequest({ authorization: `Bearer ${key}` }, store, clock, 'm', FP)).fields
        .auth_result,
    ).toBe('REVOKED');
  });
});

describe('extractApiKey', () => {
  it('prefers Authorization over x-api-key and reads the first of repeated headers', () => {
    expect(extractApiKey({ authorization: 'Bearer a', 'x-api-key': 'b' })).toEqual({
      method: 'bearer',
      key: 'a',
    });
    expect(extractApiKey({ 'x-api-key': ['b', 'c'] })).toEqual({ method: 'x-api-key', key: 'b' });
    expect(extractApiKey({ authorization: 'Bearer a b' })).toEqual({ method: 'unsupported', key: null });
  });

  it("reads Gemini's ?key= query parameter when no header carries a key", () => {
    expect(extractApiKey({}, '?alt=sse&key=AIzaSyQUERY')).toEqual({
      method: 'query-key',
      key: 'AIzaSyQUERY',
    });
    expect(extractApiKey({ 'x-goog-api-key': 'AIzaHEADER' }, '?key=AIzaSyQUERY')).toEqual({
      method: 'x-goog-api-key',
      key: 'AIzaHEADER',
    });
    expect(extractApiKey({}, '?key=')).toEqual({ method: 'none', key: null });
    expect(extractApiKey({}, '?monkey=1')).toEqual({ method: 'none', key: null });
  });
});

describe('queryApiKey / withoutQueryApiKey', () => {
  it('finds the key parameter, percent-decoded, in a target or a query', () => {
    expect(queryApiKey('/v1beta/models/m:generateContent?key=a%2Bb')).toBe('a+b');
    expect(queryApiKey('?alt=sse&key=k1')).toBe('k1');
    expect(queryApiKey('/v1/models/m:generateContent')).toBeNull();
    expect(queryApiKey(null)).toBeNull();
  });

  it('removes only the key parameter and keeps the rest of the query as sent', () => {
    expect(withoutQueryApiKey('/v1beta/m:streamGenerateContent?alt=sse&key=secret')).toBe(
      '/v1beta/m:streamGenerateContent?alt=sse',
    );
    expect(withoutQueryApiKey('/p?key=secret&alt=sse&%6Bey=again')).toBe('/p?alt=sse');
    expect(withoutQueryApiKey('/p?key=secret')).toBe('/p');
    expect(withoutQueryApiKey('/p?keys=1&a=%20')).toBe('/p?keys=1&a=%20');
    expect(withoutQueryApiKey('/p')).toBe('/p');
  });
});
