import type { IncomingMessage } from 'node:http';
import { isUtf8 } from 'node:buffer';
import { TollgateError } from '../core/errors.js';
import { duplicateMember } from './duplicate-json-keys.js';

/**
 * Reads a request body up to `limit` bytes. A declared Content-Length over the limit is refused
 * before reading; a body that grows past it is cut off and refused.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(new TollgateError('TG_ERR_REQUEST_BODY_TOO_LARGE', { limit }));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        chunks.length = 0;
        req.resume(); // keep draining so the 413 can be read by the client
        reject(new TollgateError('TG_ERR_REQUEST_BODY_TOO_LARGE', { limit }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
  });
}

/**
 * Parses a JSON object body; refuses invalid UTF-8, malformed JSON and a duplicated `model`,
 * `stream` or `user` (src/http/duplicate-json-keys.ts) with catalog codes.
 */
export function parseJsonBody(buf: Buffer): Record<string, unknown> | null {
  if (buf.length === 0) return null;
  if (!isUtf8(buf)) throw new TollgateError('TG_ERR_REQUEST_INVALID_UTF8');
  const text = buf.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TollgateError('TG_ERR_REQUEST_INVALID_JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TollgateError('TG_ERR_REQUEST_INVALID_JSON', { reason: 'not_an_object' });
  }
  const duplicate = duplicateMember(text);
  if (duplicate !== null) throw new TollgateError('TG_ERR_REQUEST_DUPLICATE_KEY', { field: duplicate });
  return value as Record<string, unknown>;
}
