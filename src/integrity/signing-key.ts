/**
 * The Ed25519 key that signs checkpoints, and the keyring of verifier keys that checks them.
 *
 * The private key is stored in the signed-note private key text form
 * (`PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>`, as Go's note package
 * writes it) in a file of mode 0600, created on first run. Every public verifier key ever used is
 * appended to `<key path>.verifiers` (one `name+hexid+base64` per line), so after a rotation the
 * checkpoints signed with earlier keys still verify.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  type KeyObject,
} from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { TollgateError } from '../core/errors.js';
import {
  ED25519_ALG,
  ed25519KeyId,
  ed25519Verifier,
  formatVerifierKey,
  isValidKeyName,
  parseVerifierKey,
  splitPlus,
  type NoteSigner,
  type NoteVerifier,
} from './signed-note.js';

// RFC 8410 PKCS#8 header for an Ed25519 private key; the 32-byte seed follows it.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A checkpoint signing key. Its private half never leaves this object except through `privateKeyText`. */
export interface SigningKey extends NoteSigner {
  /** `name+hexid+base64(0x01 || public key)`, for export and for the keyring. */
  readonly verifierKey: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  verifier(): NoteVerifier;
  /** The PRIVATE+KEY text form, for writing the key file. */
  privateKeyText(): string;
}

function invalid(reason: string): TollgateError {
  return new TollgateError('TG_ERR_INTEGRITY_KEY_INVALID', { reason });
}

function fromSeed(name: string, seed: Buffer): SigningKey {
  if (!isValidKeyName(name)) throw invalid('key name');
  if (seed.length !== 32) throw invalid('seed length');
  const priv: KeyObject = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
  const publicKey = Buffer.from(spki.subarray(spki.length - 32));
  const keyId = ed25519KeyId(name, publicKey);
  const verifierKey = formatVerifierKey(name, publicKey);
  return {
    name,
    keyId,
    verifierKey,
    publicKey,
    sign: (message) => cryptoSign(null, message, priv),
    verifier: () => ed25519Verifier(name, publicKey),
    privateKeyText: () =>
      `PRIVATE+KEY+${name}+${keyId.toString(16).padStart(8, '0')}+${Buffer.concat([Buffer.from([ED25519_ALG]), seed]).toString('base64')}`,
  };
}

/** A fresh random key. `name` identifies the signer (e.g. `tollgate-gw-1`). */
export function generateSigningKey(name: string): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return fromSeed(name, Buffer.from(der.subarray(der.length - 32)));
}

/** Parses the PRIVATE+KEY text form; throws TG_ERR_INTEGRITY_KEY_INVALID without echoing it. */
export function parseSigningKey(text: string): SigningKey {
  const parts = splitPlus(text.trim(), 5);
  if (parts === null || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') throw invalid('private key shape');
  const [, , name, hexId, b64] = parts as [string, string, string, string, string];
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== 33 || raw[0] !== ED25519_ALG) throw invalid('private key bytes');
  const key = fromSeed(name, raw.subarray(1));
  if (key.keyId.toString(16).padStart(8, '0') !== hexId) throw invalid('private key id mismatch');
  return key;
}

/** Path of the keyring beside a key file. */
export function keyringPath(keyPath: string): string {
  return `${keyPath}.verifiers`;
}

export interface KeyFileOptions {
  /** Path of the private key file (the caller decides; e.g. `./data/checkpoint.key`). */
  path: string;
  /** Signer name used when a key is created. */
  name: string;
}

/**
 * Loads the signing key at `path`, or creates it (mode 0600) on first run and records its
 * verifier key in the keyring. Refuses a key file readable by group or others.
 */
export function loadOrCreateSigningKey(options: KeyFileOptions): SigningKey {
  const { path } = options;
  if (existsSync(path)) {
    if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0)
      throw invalid('key file mode must be 0600');
    const key = parseSigningKey(readFileSync(path, 'utf8'));
    ensureInKeyring(path, key.verifierKey);
    return key;
  }
  const key = generateSigningKey(options.name);
  // 'wx': never overwrite a key another process created meanwhile.
  writeFileSync(path, key.privateKeyText() + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  ensureInKeyring(path, key.verifierKey);
  return key;
}

/**
 * Replaces the signing key with a new one (written atomically, mode 0600) and appends its
 * verifier key to the keyring; earlier verifier keys stay there so old checkpoints verify.
 */
export function rotateSigningKey(options: KeyFileOptions): SigningKey {
  const key = generateSigningKey(options.name);
  installSigningKey(options.path, key);
  return key;
}

/**
 * Writes `key` as the key file at `path` (atomically, mode 0600) and appends its verifier key to
 * the keyring beside it.
 */
export function installSigningKey(path: string, key: SigningKey): void {
  const tmp = `${path}.tmp-${key.keyId.toString(16)}`;
  writeFileSync(tmp, key.privateKeyText() + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  ensureInKeyring(path, key.verifierKey);
  renameSync(tmp, path);
}

/** Every verifier key in the keyring beside `keyPath` (empty when there is none). */
export function readKeyring(keyPath: string): NoteVerifier[] {
  const ring = keyringPath(keyPath);
  if (!existsSync(ring)) return [];
  return parseVerifierKeys(readFileSync(ring, 'utf8'));
}

/** Parses verifier keys, one per line; blank lines and `#` comments are skipped. */
export function parseVerifierKeys(text: string): NoteVerifier[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'))
    .map(parseVerifierKey);
}

function ensureInKeyring(keyPath: string, verifierKey: string): void {
  const ring = keyringPath(keyPath);
  const existing = existsSync(ring)
    ? readFileSync(ring, 'utf8')
        .split('\n')
        .map((l) => l.trim())
    : [];
  if (!existing.includes(verifierKey)) appendFileSync(ring, verifierKey + '\n', { mode: 0o644 });
}
