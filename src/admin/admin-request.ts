import type { IncomingMessage } from 'node:http';
import { TollgateError } from '../core/errors.js';

/** Admin request bodies are small forms and JSON objects. */
const MAX_ADMIN_BODY_BYTES = 64 * 1024;

/** Reads a request body up to 64 KiB; larger bodies are refused with TG_ERR_REQUEST_BODY_TOO_LARGE. */
export async function readSmallBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ADMIN_BODY_BYTES)
      throw new TollgateError('TG_ERR_REQUEST_BODY_TOO_LARGE', { limit: MAX_ADMIN_BODY_BYTES });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a JSON object body; anything else is TG_ERR_REQUEST_INVALID_JSON. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readSmallBody(req);
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TollgateError('TG_ERR_REQUEST_INVALID_JSON', { where: 'admin' }, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new TollgateError('TG_ERR_REQUEST_INVALID_JSON', { where: 'admin' });
  return parsed as Record<string, unknown>;
}

/** Parses an `application/x-www-form-urlencoded` body. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams(await readSmallBody(req));
}

/** The value of one cookie (RFC 6265 §5.4 `cookie-string`), or null. */
export function cookieValue(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The bearer credential of `Authorization` (RFC 6750 §2.1), or null. */
export function bearerToken(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1]! : null;
}

/** The client address as the gateway records it (X-Forwarded-For only when trusted). */
export function requestIp(req: IncomingMessage, trustProxy: boolean): string | null {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
    if (first && /^[0-9a-fA-F:.]{2,45}$/.test(first)) return first;
  }
  const ip = req.socket.remoteAddress ?? null;
  return ip?.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/**
 * True when a state-changing request comes from this origin: a browser sends `Origin` on POST,
 * and it must name the host the request was sent to. Requests without `Origin` (curl, scripts
 * using the bearer token) pass this check; the CSRF token still applies to sessions.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
