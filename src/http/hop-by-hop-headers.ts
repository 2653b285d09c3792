/**
 * RFC 9110 §7.6.1: hop-by-hop fields are meaningful for one connection only and are not forwarded,
 * nor is any field named in `Connection`. Host is set from the fixed upstream origin; framing
 * (content-length, transfer-encoding) is recomputed by the HTTP client.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
]);

/** Request headers that never go upstream: Tollgate's own, client-network facts, and URL rewrites. */
function isPrivateRequestHeader(name: string): boolean {
  return (
    name.startsWith('x-tollgate-') ||
    name === 'forwarded' ||
    name.startsWith('x-forwarded-') ||
    name === 'x-real-ip' ||
    name === 'cookie' ||
    // IIS / Symfony-style rewrite headers: a front end that honours them would route the request
    // to another path than the one Tollgate admitted and audited.
    name === 'x-original-url' ||
    name === 'x-rewrite-url'
  );
}

/**
 * The headers a client may carry a provider credential in (OpenAI and most: authorization;
 * Anthropic: x-api-key; Gemini: x-goog-api-key; Azure OpenAI: api-key). In managed mode none of
 * them goes upstream: the provider sees only the key Tollgate holds.
 */
export const CLIENT_CREDENTIAL_HEADERS: readonly string[] = [
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
];

/** Headers to send upstream, from the client's raw header list (Node's `rawHeaders`). */
export function upstreamRequestHeaders(rawHeaders: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  let connectionListed: Set<string> | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (name === 'connection') {
      connectionListed ??= new Set();
      for (const token of rawHeaders[i + 1]!.split(',')) connectionListed.add(token.trim().toLowerCase());
    }
  }
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || isPrivateRequestHeader(name) || connectionListed?.has(name)) continue;
    const value = rawHeaders[i + 1]!;
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  // Ask for an uncompressed body so the audit can read usage without inflating it.
  out['accept-encoding'] = 'identity';
  return out;
}

/** Response headers to pass back to the client. */
export function clientResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
  dropContentLength: boolean,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = new Set<string>();
  const conn = headers.connection;
  if (typeof conn === 'string') for (const t of conn.split(',')) listed.add(t.trim().toLowerCase());
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (name === 'content-length') {
      if (!dropContentLength) out[name] = value;
      continue;
    }
    if (HOP_BY_HOP.has(name) || listed.has(name) || name === 'set-cookie') continue;
    out[name] = value;
  }
  return out;
}
