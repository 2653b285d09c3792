/**
 * Turns a failed request (DNS, TCP, TLS, timeout) into a finding. Node and undici report the
 * reason as an error `code` somewhere down the `cause` chain (or inside an AggregateError when
 * both IPv4 and IPv6 were tried); the code, not the message, decides the diagnosis.
 */
import { fail, type DoctorFinding } from './doctor-report.js';

/** Every error code found in `err`, its causes and aggregated errors, outermost first. */
export function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown): void => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    const rec = e as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
    if (typeof rec.code === 'string') codes.push(rec.code);
    if (rec.name === 'AbortError' || rec.name === 'TimeoutError') codes.push(rec.name);
    visit(rec.cause);
    if (Array.isArray(rec.errors)) for (const inner of rec.errors) visit(inner);
  };
  visit(err);
  return codes;
}

const TLS_CA_FIX =
  'If a corporate proxy inspects TLS, give Node its CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem. Never set NODE_TLS_REJECT_UNAUTHORIZED=0: it turns off the check that keeps the key from an impostor.';

/** A finding for a request that failed before any HTTP response. */
export function diagnoseNetworkError(err: unknown, host: string, timeoutMs: number): DoctorFinding {
  const codes = errorCodes(err);
  const has = (...c: string[]): boolean => codes.some((x) => c.includes(x));
  if (has('ENOTFOUND')) {
    return fail(
      'net.dns',
      `DNS: ${host} does not exist`,
      `The resolver answered that no such name exists (ENOTFOUND).`,
      'Check the host for typos. If it is an internal name, check the VPN or the DNS search domain of this machine.',
    );
  }
  if (has('EAI_AGAIN')) {
    return fail(
      'net.dns',
      `DNS: could not resolve ${host} right now`,
      'The resolver did not answer (EAI_AGAIN): no network, a DNS server down, or outbound DNS blocked.',
      'Check connectivity (`getent hosts HOST` or `nslookup HOST`), /etc/resolv.conf, and any egress firewall or proxy setting (HTTPS_PROXY).',
    );
  }
  if (has('DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN')) {
    return fail(
      'net.tls',
      'TLS: self-signed certificate',
      `${host} presented a certificate no trusted authority signed (${codes.find((c) => c.includes('SELF_SIGNED'))}). Either a TLS-inspecting proxy sits in between, or the server uses a development certificate.`,
      TLS_CA_FIX,
    );
  }
  if (has('CERT_HAS_EXPIRED')) {
    return fail(
      'net.tls',
      'TLS: certificate expired',
      `${host} presented an expired certificate (CERT_HAS_EXPIRED).`,
      "If this is your own server or proxy, renew its certificate. If it is a public provider, check this machine's clock (`date -u`) — a wrong clock makes valid certificates look expired.",
    );
  }
  if (has('CERT_NOT_YET_VALID')) {
    return fail(
      'net.tls',
      'TLS: certificate not yet valid',
      `${host} presented a certificate whose validity starts in the future (CERT_NOT_YET_VALID).`,
      "This machine's clock is probably behind: check `date -u` and NTP.",
    );
  }
  if (has('ERR_TLS_CERT_ALTNAME_INVALID')) {
    return fail(
      'net.tls',
      'TLS: certificate is for another host name',
      `The certificate ${host} presented does not cover the name ${host} (ERR_TLS_CERT_ALTNAME_INVALID).`,
      "Use the host name the certificate was issued for (often the provider's canonical API host), or fix the DNS entry that points this name at another server.",
    );
  }
  if (
    has('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT')
  ) {
    return fail(
      'net.tls',
      'TLS: certificate chain cannot be verified',
      `${host} presented a certificate signed by an unknown or missing intermediate authority (${codes.find((c) => c.startsWith('UNABLE_TO'))}).`,
      `Your own server: serve the full chain (leaf + intermediates). Otherwise: ${TLS_CA_FIX}`,
    );
  }
  if (
    has('ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG') ||
    codes.some((c) => c.startsWith('ERR_SSL_'))
  ) {
    return fail(
      'net.tls',
      'TLS handshake failed',
      `The TLS handshake with ${host} failed (${codes.find((c) => c.startsWith('ERR_SSL_'))}); the usual cause is https:// pointed at a port that speaks plain http.`,
      'If the server is plain http (a local model server), use http://; otherwise check the port.',
    );
  }
  if (has('ECONNREFUSED')) {
    return fail(
      'net.connect',
      'Connection refused',
      `Nothing is listening at ${host} (ECONNREFUSED).`,
      'Check the port and that the server is running (`ss -ltnp`); for a container, that it publishes the port and listens on 0.0.0.0, not 127.0.0.1 inside the container.',
    );
  }
  if (has('UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT')) {
    return fail(
      'net.timeout',
      'Connect timeout',
      `No TCP connection to ${host} within ${timeoutMs} ms: packets are dropped on the way (firewall, security group, no route, or a proxy required).`,
      'Check egress rules and whether this network needs a proxy (HTTPS_PROXY); try `curl -v` from the same machine.',
    );
  }
  if (has('EHOSTUNREACH', 'ENETUNREACH')) {
    return fail(
      'net.connect',
      'No route to the host',
      `The network has no route to ${host} (${codes.find((c) => c.endsWith('UNREACH'))}).`,
      'Check the network interface, VPN and routing; an IPv6-only address on an IPv4-only network shows this too.',
    );
  }
  if (has('UND_ERR_HEADERS_TIMEOUT', 'AbortError', 'TimeoutError')) {
    return fail(
      'net.timeout',
      'No response in time',
      `Connected to ${host}, but no response arrived within ${timeoutMs} ms.`,
      "The server or a proxy in between is hanging or overloaded. Check the provider's status page; for a self-hosted server, its logs and load. Raise the timeout only if slow first bytes are expected.",
    );
  }
  if (has('ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE')) {
    return fail(
      'net.connect',
      'Connection closed by the other side',
      `${host} closed the connection before answering (${codes[codes.length - 1] ?? 'reset'}).`,
      'Often a proxy or firewall that drops TLS to unknown hosts, or a server that crashed on the request; check proxy settings and the server log.',
    );
  }
  return fail(
    'net.connect',
    'Request failed',
    `The request to ${host} failed before any HTTP response (${codes.join(', ') || 'no error code'}).`,
    'Try `curl -v BASE_URL/models` from the same machine to see where it stops.',
  );
}
