/**
 * Diagnoses the answer to `GET {base}/models`. Provider error messages are never repeated: some
 * quote part of the key ("Incorrect API key provided: sk-proj-****abcd"). Only the short
 * machine-readable error code/type is shown.
 */
import type { ProviderPreset } from '../providers/provider-preset.js';
import { fail, ok, warn, type DoctorFinding } from './doctor-report.js';

export interface ModelsResponse {
  status: number;
  headers: { get(name: string): string | null };
  body: string;
  latencyMs: number;
}

const SAFE_TOKEN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The provider's machine-readable error code (`invalid_api_key`, `insufficient_quota`, …) when safe to show. */
export function providerErrorCode(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as {
      error?: { code?: unknown; type?: unknown } | string;
      type?: unknown;
    };
    const e = parsed.error;
    const candidates = typeof e === 'object' && e !== null ? [e.code, e.type] : [parsed.type];
    for (const c of candidates) if (typeof c === 'string' && SAFE_TOKEN.test(c)) return c;
  } catch {
    // not JSON: no code
  }
  return null;
}

function printable(s: string, max: number): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? clean.slice(0, max) + '…' : clean;
}

/** Model ids from an OpenAI-style `{ data: [{ id }] }` (Anthropic uses the same shape). */
export function modelIds(body: string): string[] | null {
  try {
    const parsed = JSON.parse(body) as { data?: unknown; models?: unknown };
    const list = Array.isArray(parsed.data)
      ? parsed.data
      : Array.isArray(parsed.models)
        ? parsed.models
        : null;
    if (list === null) return null;
    return list
      .map((m: unknown) =>
        typeof m === 'object' && m !== null
          ? ((m as { id?: unknown; name?: unknown }).id ?? (m as { name?: unknown }).name)
          : null,
      )
      .filter((id): id is string => typeof id === 'string')
      .map((id) => printable(id, 80));
  } catch {
    return null;
  }
}

/** Findings for the `/models` answer. `keyWasEmpty` turns a 401 into the expected outcome it is. */
export function diagnoseModelsResponse(
  res: ModelsResponse,
  ctx: { modelsUrl: string; provider: ProviderPreset | null; keyWasEmpty: boolean; baseHasVersion: boolean },
): DoctorFinding[] {
  const code = providerErrorCode(res.body);
  const codeNote = code === null ? '' : ` Provider error code: ${code}.`;
  const where = `GET ${ctx.modelsUrl} → ${res.status} in ${Math.round(res.latencyMs)} ms.`;
  const contentType = res.headers.get('content-type') ?? '';
  const name = ctx.provider?.id ?? 'The upstream';
  const consoleName = ctx.provider === null ? 'provider' : `${ctx.provider.id}`;

  if (res.status >= 200 && res.status < 300) {
    if (contentType.includes('text/html')) {
      return [
        fail(
          'http.models',
          'Got a web page, not an API answer',
          `${where} The response is HTML: the base URL points at a website or a login page.`,
          ctx.provider === null
            ? 'Use the API base URL of the server (usually ending in /v1).'
            : `Use ${ctx.provider.baseUrl}`,
        ),
      ];
    }
    const ids = modelIds(res.body);
    if (ids === null) {
      return [
        warn(
          'http.models',
          'Reachable, but /models is not an OpenAI-style list',
          `${where} The body has no "data" array.`,
          'Check that the upstream is OpenAI-compatible and the base URL is its API root.',
        ),
      ];
    }
    const findings = [ok('http.models', 'The key works', `${where} Authenticated.`)];
    if (ids.length === 0) {
      findings.push(
        warn(
          'models.list',
          'No models available',
          'The key is accepted but lists no models.',
          'Check the project/organisation the key belongs to has model access (and, for a self-hosted server, that a model is loaded).',
        ),
      );
    } else {
      const sample = ids.slice(0, 5).join(', ') + (ids.length > 5 ? `, … (+${ids.length - 5} more)` : '');
      findings.push(ok('models.list', `${ids.length} model${ids.length === 1 ? '' : 's'} available`, sample));
    }
    return findings;
  }

  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.get('location');
    let target = 'elsewhere';
    if (location !== null) {
      try {
        const u = new URL(location, ctx.modelsUrl);
        target = `${u.protocol}//${u.host}${u.pathname}`;
      } catch {
        target = 'an unparsable location';
      }
    }
    return [
      fail(
        'http.models',
        `Redirected (${res.status})`,
        `${where} The server redirects to ${printable(target, 200)}. Clients drop the Authorization header on cross-host redirects and turn POST into GET on 301/302.`,
        'Use the final URL as the base URL directly.',
      ),
    ];
  }

  switch (res.status) {
    case 401:
      if (ctx.keyWasEmpty) {
        return [
          fail(
            'http.models',
            'Unauthorized, as expected without a key',
            `${where} The upstream is reachable and asks for a key.`,
            'Provide the API key.',
          ),
        ];
      }
      return [
        fail(
          'http.models',
          'The key was rejected (401)',
          `${where} ${name} does not accept this key: wrong, revoked or rotated, or a key of another provider or organisation.${codeNote}`,
          `Check the key in the ${consoleName} console (is it still listed? same organisation/project?) and copy it again; if it was rotated, update every place that holds the old one.`,
        ),
      ];
    case 403:
      return [
        fail(
          'http.models',
          'The key is valid but not allowed (403)',
          `${where} Authenticated, but this key may not do this: a restricted key without the models permission, a project without access, an IP allow-list, or a country/region the provider does not serve.${codeNote}`,
          "Check the key's permissions and project in the provider console, and the network egress location; a restricted key needs read access to models for this check.",
        ),
      ];
    case 404:
      return [
        fail(
          'http.models',
          'Not found (404): the base URL path is wrong',
          `${where} Nothing is served at this path.${ctx.baseHasVersion ? '' : ' The base URL has no /v1.'}`,
          ctx.provider !== null
            ? `Use ${ctx.provider.baseUrl}`
            : ctx.baseHasVersion
              ? 'Check the API root of the server: the path before /models.'
              : 'Add /v1 to the base URL.',
        ),
      ];
    case 429: {
      const retryAfter = res.headers.get('retry-after');
      const wait =
        retryAfter !== null && SAFE_TOKEN.test(retryAfter.replace(/ /g, ''))
          ? ` Retry-After: ${printable(retryAfter, 40)}.`
          : '';
      if (code === 'insufficient_quota' || code === 'billing_hard_limit_reached') {
        return [
          fail(
            'http.models',
            'Out of credit (429)',
            `${where} The key works, but the account has no quota left.${codeNote}`,
            "Add credit or raise the spending limit in the provider's billing settings; retrying will not help.",
          ),
        ];
      }
      return [
        warn(
          'http.models',
          'Rate limited (429)',
          `${where} The key works, but the account or key is over its rate limit right now.${wait}${codeNote}`,
          "Wait and retry; if it persists, something else is spending the same key's limit (look for a retry loop) or the tier limit is too low.",
        ),
      ];
    }
    default:
      break;
  }
  if (res.status >= 500) {
    return [
      fail(
        'http.models',
        `Server error (${res.status})`,
        `${where} The upstream (or a proxy in front of it) failed; this is not a key problem.${codeNote}`,
        ctx.provider === null
          ? "Check the server's logs or the provider's status page, and retry later."
          : `Check ${name}'s status page and retry later.`,
      ),
    ];
  }
  return [
    fail(
      'http.models',
      `Unexpected answer (${res.status})`,
      `${where}${codeNote}`,
      'Check that the base URL is the OpenAI-compatible API root of the upstream.',
    ),
  ];
}
