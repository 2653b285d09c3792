/**
 * The admin token guarding `/admin/*` and `/ui/`: configured, or generated on first run into a
 * file only the owner can read (mode 0600), which the CLI prints once.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, statSync, writeSync, closeSync, fchmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { TollgateError } from '../core/errors.js';
import { randomBase62 } from './random-token.js';

/** Admin tokens: `tga-` and 43 base62 characters (≈ 256 bits). */
export const ADMIN_TOKEN_PREFIX = 'tga-';

export interface AdminToken {
  token: string;
  /** True when this call generated the token: the CLI prints it once, then never again. */
  created: boolean;
  source: 'configured' | 'file';
  /** True when the existing file is readable by group or others (the CLI should warn). */
  fileTooOpen: boolean;
}

/**
 * Returns the configured token when given (non-empty), else the token in `path`, creating the
 * file (and its directory, mode 0700) with a fresh token when missing. Creation uses O_EXCL, so
 * two processes starting at once cannot both write a token. Throws `TG_ERR_CONFIG_INVALID` for
 * an empty or unreadable token file (detail carries the path, never the token).
 */
export function ensureAdminToken(options: { path: string; configured?: string | null }): AdminToken {
  const configured = options.configured?.trim();
  if (configured !== undefined && configured !== '') {
    return { token: configured, created: false, source: 'configured', fileTooOpen: false };
  }
  const { path } = options;
  const token = ADMIN_TOKEN_PREFIX + randomBase62(43);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd: number | null = null;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new TollgateError('TG_ERR_CONFIG_INVALID', { setting: 'admin_token_file', path }, { cause: err });
    }
  }
  if (fd !== null) {
    try {
      fchmodSync(fd, 0o600); // openSync's mode is filtered by the umask; make it exact
      writeSync(fd, token + '\n');
    } finally {
      closeSync(fd);
    }
    return { token, created: true, source: 'file', fileTooOpen: false };
  }
  const existing = readFileSync(path, 'utf8').trim();
  if (existing === '')
    throw new TollgateError('TG_ERR_CONFIG_INVALID', { setting: 'admin_token_file', path });
  const fileTooOpen = process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0;
  return { token: existing, created: false, source: 'file', fileTooOpen };
}

/**
 * Constant-time check of a presented token. Both sides are hashed first, so the comparison runs
 * on equal-length digests: `timingSafeEqual` throws on unequal lengths, and comparing lengths
 * directly would leak the token's length.
 */
export function verifyAdminToken(expected: string, presented: string | null | undefined): boolean {
  if (presented === null || presented === undefined || presented === '' || expected === '') return false;
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(presented, 'utf8').digest();
  return timingSafeEqual(a, b);
}
