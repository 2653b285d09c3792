import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyFingerprint } from '../access/key-fingerprint.js';
import { keyNamesFor, StateKeyNames } from './state-key-names.js';

describe('StateKeyNames', () => {
  const secret = randomBytes(32);

  it('gives every replica with the same secret the same name, and names no subject in clear', () => {
    const a = new StateKeyNames(secret);
    const b = new StateKeyNames(Buffer.from(secret));
    expect(a.of('ip:203.0.113.7')).toBe(b.of('ip:203.0.113.7'));
    expect(a.of('ip:203.0.113.7')).not.toBe(a.of('ip:203.0.113.8'));
    expect(a.of('ip:203.0.113.7')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a.of('ip:203.0.113.7')).not.toContain('203.0.113.7');
  });

  it('is keyed: another secret gives other names, and no name is a plain hash or the api_key_id HMAC', () => {
    const subject = 'ip:203.0.113.7';
    const name = new StateKeyNames(secret).of(subject);
    expect(new StateKeyNames(randomBytes(32)).of(subject)).not.toBe(name);
    // An unkeyed hash of an address can be reversed by trying all 2^32 of them.
    expect(name).not.toBe(createHash('sha256').update(subject).digest('base64url').slice(0, 22));
    // A subkey, not the fingerprint secret itself: a name never coincides with an api_key_id.
    expect(Buffer.from(name, 'base64url').toString('hex')).not.toContain(
      keyFingerprint(secret, subject).slice(0, 12),
    );
  });

  it('is one instance per secret Buffer for every state class of a gateway, and names as a new one would', () => {
    expect(keyNamesFor(secret)).toBe(keyNamesFor(secret));
    expect(keyNamesFor(Buffer.from(secret))).not.toBe(keyNamesFor(secret));
    expect(keyNamesFor(secret).of('ip:203.0.113.7')).toBe(new StateKeyNames(secret).of('ip:203.0.113.7'));
  });
});
