import { describe, expect, it } from 'vitest';
import { KeyFingerprinter, keyFingerprint } from './key-fingerprint.js';
import { keyPrefix } from './key-prefix.js';

describe('keyPrefix', () => {
  it('shows at most 8 characters of a real-length key', () => {
    expect(keyPrefix('sk-proj-' + 'x'.repeat(150))).toBe('sk-proj-');
    expect(keyPrefix('sk-ant-api03-' + 'y'.repeat(90))).toBe('sk-ant-a');
    expect(keyPrefix('tg-AbCd1' + 'z'.repeat(38))).toBe('tg-AbCd1');
  });

  it('shows a quarter of a short key at most', () => {
    expect(keyPrefix('sk-abcdefghijk')).toBe('sk-');
    expect(keyPrefix('abc')).toBe('');
    expect(keyPrefix('')).toBe('');
  });

  it('never emits control characters or spaces', () => {
    expect(keyPrefix('\nsk-proj-' + 'x'.repeat(60))).toBe('?sk-proj');
    expect(keyPrefix(' sk\t' + 'x'.repeat(60))).toBe('?sk?xxxx');
  });
});

describe('keyFingerprint', () => {
  it('is HMAC-SHA256 hex truncated to 16 characters, keyed by the secret', () => {
    // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?")
    expect(keyFingerprint('Jefe', 'what do ya want for nothing?')).toBe('5bdcc146bf60754e');
    expect(keyFingerprint('other', 'what do ya want for nothing?')).not.toBe('5bdcc146bf60754e');
  });
});

describe('KeyFingerprinter', () => {
  it('gives the same fingerprint as keyFingerprint, cached or not, and stays bounded', () => {
    const fp = new KeyFingerprinter('s', { cacheSize: 2 });
    for (const k of ['k1', 'k2', 'k3', 'k1']) {
      expect(fp.fingerprint(k, `hash-of-${k}`)).toBe(keyFingerprint('s', k));
      expect(fp.fingerprint(k)).toBe(keyFingerprint('s', k));
    }
  });
});
