/** Offline checks of the upstream base URL. */
import { isIP } from 'node:net';
import { presetByName, presetForApiHost, presetForConsoleHost } from '../providers/registry.js';
import type { ProviderPreset } from '../providers/provider-preset.js';
import { fail, ok, warn, type DoctorFinding } from './doctor-report.js';

export interface UrlCheckResult {
  findings: DoctorFinding[];
  /** The base URL to probe, null when unusable. */
  url: URL | null;
  /** Credentials, query and fragment removed, for display. */
  display: string;
  provider: ProviderPreset | null;
}

const ENDPOINT_SUFFIX = /\/(chat\/completions|completions|responses|messages|embeddings|models)\/?$/;
const VERSION_SEGMENT = /\/v\d+(alpha\d*|beta\d*)?(\/|$)/;

/** True for hosts where plain http is reasonable: loopback, private ranges, single-label names. */
export function isLocalHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    h.endsWith('.local') ||
    h.endsWith('.internal') ||
    (!h.includes('.') && isIP(h) === 0)
  )
    return true;
  if (isIP(h) === 4) return /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.)/.test(h);
  if (isIP(h) === 6) return h === '::1' || /^(fc|fd|fe80)/.test(h);
  return false;
}

function displayUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** Checks the base URL; `providerId` overrides inference from the host. */
export function checkBaseUrl(raw: string, providerId?: string): UrlCheckResult {
  const findings: DoctorFinding[] = [];
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    findings.push(
      fail(
        'url.valid',
        'The base URL is not a URL',
        raw.trim() === '' ? 'No base URL was given.' : 'It could not be parsed.',
        'Give the full base URL with scheme, e.g. https://api.openai.com/v1 (--upstream or TOLLGATE_UPSTREAM_URL).',
      ),
    );
    return {
      findings,
      url: null,
      display: '(invalid)',
      provider: providerId === undefined ? null : presetByName(providerId),
    };
  }
  const display = displayUrl(url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    findings.push(
      fail(
        'url.valid',
        `Unsupported scheme ${url.protocol}`,
        'Only http and https upstreams are possible.',
        'Use https://…',
      ),
    );
    return { findings, url: null, display, provider: null };
  }
  const provider = providerId !== undefined ? presetByName(providerId) : presetForApiHost(url.hostname);
  findings.push(
    ok(
      'url.valid',
      'Base URL parses',
      provider === null
        ? 'Provider not recognised from the host (self-hosted or proxy).'
        : `Provider: ${provider.id}`,
    ),
  );

  if (url.username !== '' || url.password !== '') {
    findings.push(
      warn(
        'url.credentials',
        'The URL carries credentials',
        'user:password@ in a base URL ends up in logs and shell history.',
        'Remove them from the URL; the API key goes in the Authorization header.',
      ),
    );
    url.username = '';
    url.password = '';
  }

  const consoleOf = presetForConsoleHost(url.hostname);
  if (consoleOf !== null) {
    findings.push(
      fail(
        'url.host',
        `${url.hostname} is the ${consoleOf.id} web console, not the API`,
        'The console serves web pages; API calls there fail or return HTML.',
        `Use ${consoleOf.baseUrl}`,
      ),
    );
  }

  if (url.protocol === 'http:' && !isLocalHost(url.hostname)) {
    findings.push(
      fail(
        'url.scheme',
        'Plain http to a public host',
        `The API key would cross the network in clear to ${url.hostname}.`,
        `Use https://${url.host}${url.pathname}`,
      ),
    );
  } else {
    findings.push(ok('url.scheme', url.protocol === 'https:' ? 'https' : 'http to a local host'));
  }

  const path = url.pathname.replace(/\/+$/, '');
  const providerHost = provider === null ? null : new URL(provider.baseUrl).hostname;
  if (ENDPOINT_SUFFIX.test(url.pathname)) {
    const root = url.pathname.replace(ENDPOINT_SUFFIX, '');
    findings.push(
      fail(
        'url.path',
        'The base URL includes an endpoint',
        `The path ${url.pathname} ends with an endpoint; clients append /chat/completions (or /models) to the base URL themselves.`,
        `Use ${url.protocol}//${url.host}${root || '/v1'}`,
      ),
    );
  } else if (consoleOf !== null) {
    // the host finding already says where the API is
  } else if (provider !== null && url.hostname.toLowerCase() === providerHost) {
    const expected = new URL(provider.baseUrl).pathname.replace(/\/+$/, '');
    if (path !== expected) {
      findings.push(
        fail(
          'url.path',
          path === '' ? `The base URL is missing ${expected}` : `Unexpected path for ${provider.id}`,
          `${provider.id} serves its API under ${expected}; requests to ${path || '/'}… will 404.`,
          `Use ${provider.baseUrl}`,
        ),
      );
    } else {
      findings.push(ok('url.path', 'Path matches the provider', expected));
    }
  } else if (!VERSION_SEGMENT.test(url.pathname)) {
    findings.push(
      warn(
        'url.path',
        'The base URL has no /v1',
        'OpenAI-compatible servers (vLLM, Ollama, LiteLLM, LM Studio) serve the API under /v1; without it most calls 404.',
        `Try ${url.protocol}//${url.host}${path}/v1`,
      ),
    );
  } else {
    findings.push(ok('url.path', 'Path has an API version', path));
  }
  url.search = '';
  url.hash = '';
  return { findings, url, display, provider };
}
