/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, as read and written by
 * Go's golang.org/x/mod/sumdb/note and the transparency-dev tooling.
 *
 * A note is UTF-8 text ending in a newline, a blank line, then one signature line per signer:
 * `— <key name> <base64(key id (4 bytes, big-endian) || signature)>` (U+2014 em dash, space).
 * The signature covers the text including its final newline. Key id = first 4 bytes of
 * SHA-256(name || 0x0A || 0x01 || public key) (0x01 = Ed25519). A verifier key is shared as
 * `<name>+<hex key id>+<base64(0x01 || public key)>`.
 */
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { TollgateError } from '../core/errors.js';

/** Signature type byte of Ed25519 in the signed-note spec. */
export const ED25519_ALG = 0x01;
const SIG_PREFIX = '\u2014 ';
// RFC 8410 SubjectPublicKeyInfo header for an Ed25519 key; the raw 32 bytes follow it.
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Something that can sign note text. */
export interface NoteSigner {
  readonly name: string;
  /** uint32 key id. */
  readonly keyId: number;
  sign(message: Buffer): Buffer;
}

/** A known public key that can check note signatures. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** The `name+hexid+base64` text form. */
  readonly verifierKey: string;
  verify(message: Buffer, signature: Buffer): boolean;
}

/** Key names are non-empty and contain neither Unicode spaces nor `+` (signed-note spec). */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u.test(name);
}

/** The signed-note key id of an Ed25519 public key: SHA-256(name || 0x0A || 0x01 || key)[:4]. */
export function ed25519KeyId(name: string, publicKey: Uint8Array): number {
  const h = createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ED25519_ALG]))
    .update(publicKey)
    .digest();
  return h.readUInt32BE(0);
}

/** `name+hexid+base64(0x01 || key)`. */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  const id = ed25519KeyId(name, publicKey).toString(16).padStart(8, '0');
  return `${name}+${id}+${Buffer.concat([Buffer.from([ED25519_ALG]), publicKey]).toString('base64')}`;
}

/** Builds a NoteVerifier from a raw 32-byte Ed25519 public key. */
export function ed25519Verifier(name: string, publicKey: Uint8Array): NoteVerifier {
  if (!isValidKeyName(name) || publicKey.length !== 32)
    throw new TollgateError('TG_ERR_INTEGRITY_KEY_INVALID', { reason: 'verifier key' });
  const key: KeyObject = createPublicKey({
    key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]),
    format: 'der',
    type: 'spki',
  });
  return {
    name,
    keyId: ed25519KeyId(name, publicKey),
    verifierKey: formatVerifierKey(name, publicKey),
    verify: (message, signature) => signature.length === 64 && cryptoVerify(null, message, key, signature),
  };
}

/** Parses a `name+hexid+base64` verifier key; throws TG_ERR_INTEGRITY_KEY_INVALID. */
export function parseVerifierKey(text: string): NoteVerifier {
  // The base64 part may itself contain '+': split on the first two only (names have none).
  const parts = splitPlus(text.trim(), 3);
  const invalid = (reason: string): TollgateError =>
    new TollgateError('TG_ERR_INTEGRITY_KEY_INVALID', { reason });
  if (parts === null) throw invalid('verifier key shape');
  const [name, hexId, b64] = parts as [string, string, string];
  if (!/^[0-9a-f]{8}$/.test(hexId)) throw invalid('verifier key id');
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== 33 || raw[0] !== ED25519_ALG || raw.toString('base64') !== b64)
    throw invalid('verifier key bytes');
  const v = ed25519Verifier(name, raw.subarray(1));
  if (v.keyId !== Number.parseInt(hexId, 16)) throw invalid('verifier key id mismatch');
  return v;
}

/** Splits on the first `n - 1` plus signs; null when there are fewer. */
export function splitPlus(text: string, n: number): string[] | null {
  const out: string[] = [];
  let rest = text;
  for (let i = 0; i < n - 1; i++) {
    const at = rest.indexOf('+');
    if (at < 0) return null;
    out.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  out.push(rest);
  return out;
}

/** Signs note text (which must end in a newline and contain no blank line) with each signer. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  assertNoteText(text);
  const msg = Buffer.from(text, 'utf8');
  let out = text + '\n';
  for (const s of signers) {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(s.keyId >>> 0, 0);
    out += `${SIG_PREFIX}${s.name} ${Buffer.concat([id, s.sign(msg)]).toString('base64')}\n`;
  }
  return out;
}

function assertNoteText(text: string): void {
  // Text is non-empty, ends in a newline, has no blank line and no control characters but \n.
  if (
    text.length === 0 ||
    !text.endsWith('\n') ||
    text.includes('\n\n') ||
    /[\u0000-\u0009\u000b-\u001f\u007f]/.test(text)
  ) {
    throw new TollgateError('TG_ERR_INTEGRITY_NOTE_INVALID', { reason: 'note text' });
  }
}

/** One signature line of a note. */
export interface NoteSignature {
  name: string;
  keyId: number;
  signature: Buffer;
}

/** Result of opening a note against a set of known verifier keys. */
export type OpenedNote =
  | { ok: true; text: string; signatures: NoteSignature[]; verifiedBy: NoteVerifier[] }
  | {
      ok: false;
      reason: 'malformed' | 'unknown_key' | 'bad_signature';
      text: string | null;
      signatures: NoteSignature[];
    };

/**
 * Splits a note into text and signatures and checks them against `verifiers` the way Go's
 * note.Open does: signatures by unknown keys are ignored, a bad signature by a known key rejects
 * the note, and at least one known key must have signed it.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const parsed = parseNote(note);
  if (parsed === null) return { ok: false, reason: 'malformed', text: null, signatures: [] };
  const { text, signatures } = parsed;
  const msg = Buffer.from(text, 'utf8');
  const verifiedBy: NoteVerifier[] = [];
  for (const sig of signatures) {
    const v = verifiers.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (!v) continue;
    if (!v.verify(msg, sig.signature)) return { ok: false, reason: 'bad_signature', text, signatures };
    if (!verifiedBy.includes(v)) verifiedBy.push(v);
  }
  if (verifiedBy.length === 0) return { ok: false, reason: 'unknown_key', text, signatures };
  return { ok: true, text, signatures, verifiedBy };
}

/** Syntax only: text and signature lines, or null when the note is malformed. */
export function parseNote(note: string): { text: string; signatures: NoteSignature[] } | null {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return null;
  const text = note.slice(0, split + 1);
  const sigBlock = note.slice(split + 2);
  try {
    assertNoteText(text);
  } catch {
    return null;
  }
  if (sigBlock.length === 0 || !sigBlock.endsWith('\n')) return null;
  const lines = sigBlock.slice(0, -1).split('\n');
  if (lines.length > 100) return null; // Go's note.Open limit.
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) return null;
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.lastIndexOf(' ');
    if (sp <= 0) return null;
    const name = rest.slice(0, sp);
    const b64 = rest.slice(sp + 1);
    const raw = Buffer.from(b64, 'base64');
    if (!isValidKeyName(name) || raw.length < 5 || raw.toString('base64') !== b64) return null;
    signatures.push({ name, keyId: raw.readUInt32BE(0), signature: raw.subarray(4) });
  }
  return { text, signatures };
}
