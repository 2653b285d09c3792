import type { ServerResponse } from 'node:http';

/**
 * Content-Security-Policy of the admin API and dashboard: only Tollgate's own scripts, styles and
 * images, no inline script, no other origin, no framing (CSP Level 3; frame-ancestors replaces
 * X-Frame-Options, which is kept for older browsers).
 */
export const ADMIN_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Sets the security headers every `/admin` and `/ui` response carries. */
export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', ADMIN_CSP);
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('x-content-type-options', 'nosniff');
  // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on form posts,
  // and the Origin check below needs the real origin. Other sites still get no referrer.
  res.setHeader('referrer-policy', 'same-origin');
  // Audit data must not linger in shared caches or the browser's back/forward cache.
  res.setHeader('cache-control', 'no-store');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cross-origin-resource-policy', 'same-origin');
}
