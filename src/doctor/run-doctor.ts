/**
 * `tollgate doctor`: checks an upstream base URL and API key the way a senior engineer would at
 * 3 a.m. — offline checks of the key and URL first, then DNS, the connection (TCP, TLS, timeout)
 * and `GET {base}/models`, each answer turned into a diagnosis with a fix.
 */
import { keyHeaders } from '../providers/provider-preset.js';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { keyPrefix } from '../access/key-prefix.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ok, warn, type DoctorFinding, type DoctorReport } from './doctor-report.js';
import { checkKey } from './key-checks.js';
import { diagnoseModelsResponse } from './models-response-diagnosis.js';
import { diagnoseNetworkError } from './network-error-diagnosis.js';
import { checkBaseUrl, isLocalHost } from './url-checks.js';

/** The slice of `fetch` the doctor uses; the global fetch and undici's both fit. */
export type DoctorFetch = (
  url: string,
  init: { method: 'GET'; headers: Record<string, string>; redirect: 'manual'; signal: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

export interface DoctorOptions {
  upstreamUrl: string;
  /** The key exactly as configured (whitespace and all): finding such mistakes is the point. */
  apiKey: string;
  /** Defaults to undici's fetch with connect and first-byte timeouts of `timeoutMs`. */
  fetch?: DoctorFetch;
  /** Per phase (DNS, connect, first byte, body). Default 10 000. */
  timeoutMs?: number;
  /** Provider id (`openai`, `anthropic`, …) when the host does not say it. */
  provider?: string;
  /** DNS lookup, injectable for tests; resolves to addresses. */
  lookup?: (hostname: string) => Promise<string[]>;
  clock?: Clock;
}

const defaultLookup = async (hostname: string): Promise<string[]> =>
  (await dnsLookup(hostname, { all: true })).map((a) => a.address);

async function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function checkDns(
  hostname: string,
  lookup: (h: string) => Promise<string[]>,
  timeoutMs: number,
  publicProvider: boolean,
): Promise<DoctorFinding> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (isIP(bare) !== 0) return ok('net.dns', 'DNS not needed', `${bare} is an IP address`);
  let addresses: string[];
  try {
    addresses = await withTimeout(lookup(bare), timeoutMs, () =>
      Object.assign(new Error('lookup timed out'), { code: 'EAI_AGAIN' }),
    );
  } catch (err) {
    return diagnoseNetworkError(err, bare, timeoutMs);
  }
  if (addresses.length === 0)
    return diagnoseNetworkError(
      Object.assign(new Error('no address'), { code: 'ENOTFOUND' }),
      bare,
      timeoutMs,
    );
  const first = addresses[0] ?? '';
  if (publicProvider && isLocalHost(first)) {
    return warn(
      'net.dns',
      `${bare} resolves to a private address`,
      `${bare} → ${addresses.join(', ')}. A public API host should not resolve to a local or private address.`,
      'Look for an /etc/hosts entry, a split-horizon DNS or a local proxy redirecting the host; remove it unless it is intended.',
    );
  }
  return ok(
    'net.dns',
    `${bare} resolves`,
    `${addresses.slice(0, 3).join(', ')}${addresses.length > 3 ? ', …' : ''}`,
  );
}

/** Runs every check and returns the report; never throws for a network or HTTP failure. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const clock = options.clock ?? systemClock;
  const urlCheck = checkBaseUrl(options.upstreamUrl, options.provider);
  const keyCheck = checkKey(options.apiKey, urlCheck.provider);
  const findings: DoctorFinding[] = [...keyCheck.findings, ...urlCheck.findings];
  const report = (): DoctorReport => ({
    healthy: !findings.some((f) => f.level === 'fail'),
    upstreamUrl: urlCheck.display,
    provider: urlCheck.provider?.id ?? null,
    keyPrefix: keyPrefix(options.apiKey),
    findings,
  });
  const url = urlCheck.url;
  if (url === null) return report();

  const dns = await checkDns(
    url.hostname,
    options.lookup ?? defaultLookup,
    timeoutMs,
    urlCheck.provider !== null,
  );
  findings.push(dns);
  if (dns.level === 'fail') return report();

  const modelsUrl = url.href.replace(/\/+$/, '') + '/models';
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'tollgate-doctor' };
  if (keyCheck.probeKey !== '') {
    // The key travels in the provider's own header (x-api-key, api-key, …), with what it requires.
    const p = urlCheck.provider;
    Object.assign(
      headers,
      p?.requiredHeaders,
      keyHeaders(p?.keyHeader ?? 'authorization', keyCheck.probeKey),
    );
  }

  // undici's own timeouts tell a connect timeout (UND_ERR_CONNECT_TIMEOUT) from a server that
  // accepted and then hung (UND_ERR_HEADERS_TIMEOUT); the abort signal is the last resort.
  const agent =
    options.fetch === undefined
      ? new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
      : null;
  const doFetch: DoctorFetch =
    options.fetch ?? ((u, init) => undiciFetch(u, { ...init, dispatcher: agent ?? undefined }));
  const signal = AbortSignal.timeout(agent === null ? timeoutMs : timeoutMs * 3);
  const started = clock.monotonic();
  try {
    const res = await doFetch(modelsUrl, { method: 'GET', headers, redirect: 'manual', signal });
    const body = await res.text();
    const latencyMs = clock.monotonic() - started;
    findings.push(ok('net.connect', `Connected to ${url.host}`));
    if (url.protocol === 'https:') findings.push(ok('net.tls', 'TLS certificate verified'));
    findings.push(
      ...diagnoseModelsResponse(
        { status: res.status, headers: res.headers, body, latencyMs },
        {
          modelsUrl,
          provider: urlCheck.provider,
          keyWasEmpty: keyCheck.probeKey === '',
          baseHasVersion: /\/v\d+/.test(url.pathname),
        },
      ),
    );
  } catch (err) {
    findings.push(diagnoseNetworkError(err, url.host, timeoutMs));
  } finally {
    agent?.destroy().catch(() => undefined);
  }
  return report();
}
