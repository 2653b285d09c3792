import type { ServerResponse } from 'node:http';
import { ERROR_CATALOG, errorBody, type ErrorCode } from '../core/errors.js';
import { setSecurityHeaders } from './security-headers.js';

/** Sends a JSON body with the admin security headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  setSecurityHeaders(res);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/** Sends a catalogued error (the same body shape as the gateway's own refusals; no detail). */
export function sendAdminError(res: ServerResponse, code: ErrorCode): void {
  setSecurityHeaders(res);
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (code === 'TG_ERR_ADMIN_UNAUTHORIZED') headers['www-authenticate'] = 'Bearer realm="tollgate-admin"';
  res.writeHead(ERROR_CATALOG[code].http, headers);
  res.end(errorBody(code, null));
}
