/**
 * The master key that wraps every data key: 32 bytes, given as a file (raw 32 bytes, or
 * base64 text) or as a base64 string. The CLI decides where it comes from (flag, env, file);
 * this module never reads the environment.
 */
import { readFileSync } from 'node:fs';
import { TollgateError } from '../core/errors.js';

export type MasterKeySource = { file: string } | { base64: string };

const KEY_BYTES = 32;

export function loadMasterKey(source: MasterKeySource): Buffer {
  let key: Buffer;
  if ('file' in source) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(source.file);
    } catch (err) {
      throw new TollgateError('TG_ERR_CRYPTO_KEY_MISSING', { reason: 'unreadable' }, { cause: err });
    }
    key = bytes.length === KEY_BYTES ? bytes : Buffer.from(bytes.toString('utf8').trim(), 'base64');
  } else {
    key = Buffer.from(source.base64.trim(), 'base64');
  }
  if (key.length !== KEY_BYTES)
    throw new TollgateError('TG_ERR_CRYPTO_KEY_MISSING', { reason: 'not 32 bytes' });
  return key;
}
