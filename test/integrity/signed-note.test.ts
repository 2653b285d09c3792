import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkpointOrigin,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
} from '../../src/integrity/checkpoint.js';
import { openNote, parseVerifierKey, signNote } from '../../src/integrity/signed-note.js';
import {
  generateSigningKey,
  keyringPath,
  loadOrCreateSigningKey,
  parseSigningKey,
  readKeyring,
  rotateSigningKey,
} from '../../src/integrity/signing-key.js';

// Known answers from golang.org/x/mod/sumdb/note's documentation and the C2SP signed-note spec.
const GO_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE =
  GO_TEXT +
  '\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const SPEC_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const SPEC_NOTE =
  'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

describe('C2SP signed notes', () => {
  it('reproduces the Go reference note byte for byte (key id, key encodings, signature)', () => {
    const key = parseSigningKey(GO_SKEY);
    expect(key.keyId.toString(16)).toBe('c74f20a3');
    expect(key.verifierKey).toBe(GO_VKEY);
    expect(key.privateKeyText()).toBe(GO_SKEY);
    expect(signNote(GO_TEXT, [key])).toBe(GO_NOTE);
    const opened = openNote(GO_NOTE, [parseVerifierKey(GO_VKEY)]);
    expect(opened.ok).toBe(true);
  });

  it('opens the spec example with its verifier key', () => {
    const v = parseVerifierKey(SPEC_VKEY);
    expect(v.name).toBe('example.com/foo');
    expect(openNote(SPEC_NOTE, [v])).toMatchObject({ ok: true, text: 'This is an example message.\n' });
  });

  it('rejects changed text, unknown keys, bad signatures and malformed notes', () => {
    const v = parseVerifierKey(GO_VKEY);
    expect(openNote(GO_NOTE.replace('answer', 'answeR'), [v])).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
    expect(openNote(GO_NOTE, [generateSigningKey('PeterNeumann').verifier()])).toMatchObject({
      ok: false,
      reason: 'unknown_key',
    });
    expect(openNote(GO_NOTE, [])).toMatchObject({ ok: false, reason: 'unknown_key' });
    expect(openNote(GO_TEXT, [v])).toMatchObject({ ok: false, reason: 'malformed' });
    expect(openNote(GO_NOTE.replace('\u2014', '-'), [v])).toMatchObject({ ok: false, reason: 'malformed' });
    // A second signature by an unknown key is ignored.
    const other = generateSigningKey('witness.example');
    const twice = signNote(GO_TEXT, [parseSigningKey(GO_SKEY), other]);
    expect(openNote(twice, [v]).ok).toBe(true);
    expect(() =>
      parseVerifierKey('PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'),
    ).toThrow(/TG_ERR_INTEGRITY_KEY_INVALID/);
  });
});

describe('checkpoints', () => {
  it('formats the tlog-checkpoint body with a time extension line and parses it back', () => {
    const root = Buffer.alloc(32, 7);
    const body = formatCheckpoint({
      origin: checkpointOrigin('gw-1'),
      treeSize: 12,
      rootHash: root,
      timeMs: Date.UTC(2026, 0, 1),
    });
    expect(body).toBe(`tollgate/gw-1\n12\n${root.toString('base64')}\ntime 2026-01-01T00:00:00.000Z\n`);
    expect(parseCheckpoint(body)).toEqual({
      origin: 'tollgate/gw-1',
      treeSize: 12,
      rootHash: root,
      timeMs: Date.UTC(2026, 0, 1),
    });
    expect(() => parseCheckpoint('tollgate/gw-1\n012\nAAAA\n')).toThrow(/TG_ERR_INTEGRITY_NOTE_INVALID/);
  });

  it('signs and opens checkpoints; a changed size or root breaks the signature', () => {
    const key = generateSigningKey('tollgate-test');
    const note = signCheckpoint(
      { origin: 'tollgate/c', treeSize: 3, rootHash: Buffer.alloc(32, 1), timeMs: 0 },
      [key],
    );
    expect(openCheckpoint(note, [key.verifier()])).toMatchObject({ ok: true, checkpoint: { treeSize: 3 } });
    expect(openCheckpoint(note.replace('\n3\n', '\n4\n'), [key.verifier()])).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
  });
});

describe('signing key files', () => {
  it('creates the key with mode 0600 on first run, reloads it, and refuses a readable key file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-key-'));
    const path = join(dir, 'checkpoint.key');
    const a = loadOrCreateSigningKey({ path, name: 'tollgate-gw-1' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const b = loadOrCreateSigningKey({ path, name: 'ignored' });
    expect(b.verifierKey).toBe(a.verifierKey);
    expect(readKeyring(path).map((v) => v.verifierKey)).toEqual([a.verifierKey]);
    expect(readFileSync(keyringPath(path), 'utf8')).not.toContain('PRIVATE');
    chmodSync(path, 0o644);
    expect(() => loadOrCreateSigningKey({ path, name: 'x' })).toThrow(/TG_ERR_INTEGRITY_KEY_INVALID/);
  });

  it('rotates keys; the keyring keeps every verifier key so old checkpoints still verify', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-key-'));
    const path = join(dir, 'checkpoint.key');
    const old = loadOrCreateSigningKey({ path, name: 'tollgate-gw-1' });
    const oldNote = signCheckpoint(
      { origin: 'tollgate/gw-1', treeSize: 1, rootHash: Buffer.alloc(32), timeMs: 1 },
      [old],
    );
    const next = rotateSigningKey({ path, name: 'tollgate-gw-1' });
    expect(next.keyId).not.toBe(old.keyId);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSigningKey({ path, name: 'x' }).verifierKey).toBe(next.verifierKey);
    const ring = readKeyring(path);
    expect(ring.map((v) => v.verifierKey)).toEqual([old.verifierKey, next.verifierKey]);
    expect(openCheckpoint(oldNote, ring).ok).toBe(true);
  });

  it('never echoes key material in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-key-'));
    const path = join(dir, 'bad.key');
    writeFileSync(path, 'PRIVATE+KEY+x+00000000+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n', {
      mode: 0o600,
    });
    try {
      loadOrCreateSigningKey({ path, name: 'x' });
      expect.unreachable();
    } catch (err) {
      expect(String(err)).not.toContain('AYEKFALV');
      expect(JSON.stringify((err as { detail?: unknown }).detail)).not.toContain('AYEKFALV');
    }
  });
});
