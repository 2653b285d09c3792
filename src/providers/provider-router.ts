/**
 * Several providers behind one gateway: each request goes to the provider its model (or, for a
 * model no pattern claims, its path's API) belongs to, with the provider's own key in managed
 * mode, and falls over to the next provider of the route when one cannot answer.
 */
import type { Clock } from '../core/clock.js';
import { TollgateError } from '../core/errors.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import type { UpstreamPolicy } from '../upstream/upstream-policy.js';
import type { ApiFamily, KeyHeader, ProviderApi } from './provider-api.js';
import { keyHeaders } from './provider-preset.js';
import { presetByName, presetForApiHost, providerNameForUrl, upstreamPath } from './registry.js';

/** One provider as configured (`providers:` in tollgate.config.yaml, or `--upstream`). */
export interface ProviderRouteConfig {
  /** Recorded as `api_provider`. */
  name: string;
  api: ApiFamily;
  base_url: string;
  /** Model name patterns (`*` any run of characters), e.g. `gpt-*`, `claude-*`. */
  models: string[];
  /** Providers to try next, in order, when this one cannot answer (connect error, timeout, 5xx). */
  fallback: string[];
}

/** Where one attempt of a request goes. */
export interface ProviderTarget {
  name: string;
  family: ApiFamily;
  client: UpstreamClient;
  /** The upstream path (query included) for the client's path. */
  path: string;
  /** Managed mode: the headers carrying this provider's key (they replace every client credential). */
  keyHeaders: Record<string, string> | null;
  /** Fingerprint of that key (api_key_id form), when the router was given a fingerprint function. */
  keyId: string | null;
  /** Headers the provider requires on every request (Anthropic's version), when the client left them out. */
  requiredHeaders: Record<string, string>;
}

/** Picks the providers a request goes to: the first, then its fallbacks in order. */
export interface ProviderRouter {
  route(path: string, api: ProviderApi, model: string | null): ProviderTarget[];
  close(): Promise<void>;
}

interface Entry {
  config: ProviderRouteConfig;
  patterns: RegExp[];
  client: UpstreamClient;
  basePath: string;
  key: string | null;
  keyId: string | null;
  requiredHeaders: Record<string, string>;
}

/**
 * A router over configured providers. Order: the first provider with a model pattern matching the
 * request's model; else the first whose API family serves the path's API (Anthropic's
 * `/v1/messages` to an `anthropic` provider, Gemini paths to a `gemini` one); else the first
 * provider. `keys` (managed mode) maps a provider name to its key.
 */
export function createProviderRouter(
  providers: readonly ProviderRouteConfig[],
  deps: {
    policy: UpstreamPolicy;
    clock: Clock;
    keys?: ReadonlyMap<string, string>;
    /** Managed mode: the key of every provider that has none in `keys`, sent in that provider's own header. */
    defaultKey?: string | null;
    /** Fingerprints a provider key (the quota readings of an answer are kept under it). */
    fingerprint?: (key: string) => string;
  },
): ProviderRouter {
  if (providers.length === 0) throw new TollgateError('TG_ERR_CONFIG_INVALID', { field: 'providers' });
  const entries = new Map<string, Entry>();
  for (const p of providers) {
    if (entries.has(p.name))
      throw new TollgateError('TG_ERR_CONFIG_INVALID', { field: 'providers', provider: p.name });
    const client = new UpstreamClient(p.base_url, deps.policy, deps.clock);
    const preset = presetForApiHost(new URL(p.base_url).hostname) ?? presetByName(p.name);
    const key = deps.keys?.get(p.name) ?? deps.defaultKey ?? null;
    entries.set(p.name, {
      config: p,
      patterns: p.models.map(modelPattern),
      client,
      basePath: client.basePath,
      key,
      keyId: key !== null && deps.fingerprint ? deps.fingerprint(key) : null,
      requiredHeaders:
        p.api === 'anthropic' ? { 'anthropic-version': '2023-06-01' } : { ...preset?.requiredHeaders },
    });
  }
  for (const p of providers)
    for (const f of p.fallback)
      if (!entries.has(f))
        throw new TollgateError('TG_ERR_CONFIG_INVALID', { field: 'providers.fallback', provider: f });
  const list = [...entries.values()];
  const target = (e: Entry, path: string): ProviderTarget => ({
    name: e.config.name,
    family: e.config.api,
    client: e.client,
    path: upstreamPath(e.basePath, path, e.config.api === 'openai'),
    keyHeaders: e.key === null ? null : keyHeaders(keyHeaderOf(e.config.api, e.config.base_url), e.key),
    keyId: e.keyId,
    requiredHeaders: e.requiredHeaders,
  });
  return {
    route(path, api, model) {
      const first =
        (model !== null ? list.find((e) => e.patterns.some((re) => re.test(model))) : undefined) ??
        list.find((e) => e.config.api === api.family && api.id !== 'generic') ??
        list[0]!;
      const out = [target(first, path)];
      for (const name of first.config.fallback)
        if (name !== first.config.name) out.push(target(entries.get(name)!, path));
      return out;
    },
    async close() {
      await Promise.all(list.map((e) => e.client.close()));
    },
  };
}

/** The header a provider's keys travel in: by its host when known (Azure's `api-key`), else by its API. */
function keyHeaderOf(api: ApiFamily, baseUrl: string): KeyHeader {
  const preset = presetForApiHost(new URL(baseUrl).hostname);
  if (preset) return preset.keyHeader;
  return api === 'anthropic' ? 'x-api-key' : api === 'gemini' ? 'x-goog-api-key' : 'authorization';
}

/** `gpt-*` → /^gpt-.*$/i; every other character stands for itself. */
export function modelPattern(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 'i');
}

/**
 * The provider of `--upstream VALUE`: a preset name (`deepseek`, `groq`, `ollama`, …) or a URL; the
 * name recorded is `provider` when set, else the preset's, else the host's (registry).
 */
export function singleProvider(
  upstream: string,
  provider: string | null,
  name: (url: string) => string,
): ProviderRouteConfig {
  const preset = /^[a-z][a-z0-9-]*$/i.test(upstream) ? presetByName(upstream) : null;
  if (preset === null && !/^https?:\/\//i.test(upstream))
    throw new TollgateError('TG_ERR_CONFIG_INVALID', { field: 'upstream_url' });
  const baseUrl = preset?.baseUrl ?? upstream;
  const hostPreset = preset ?? presetForApiHost(new URL(baseUrl).hostname);
  return {
    name: provider ?? preset?.id ?? name(baseUrl),
    // A preset's base URL is its OpenAI-compatible one (Gemini's /v1beta/openai), except Anthropic's.
    api: hostPreset?.api === 'anthropic' ? 'anthropic' : 'openai',
    base_url: baseUrl,
    models: [],
    fallback: [],
  };
}

/**
 * The router of a gateway started from configuration: the `providers:` list when there is one,
 * else the one upstream of `upstream_url` (a URL or a preset name). `name` is what single-upstream
 * events record as `api_provider`.
 */
export function routerFromConfig(
  c: {
    upstream_url: string;
    provider: string | null;
    mode: string;
    providers?: ReadonlyArray<ProviderRouteConfig & { key_file?: string | null }> | null;
  },
  deps: {
    policy: UpstreamPolicy;
    clock: Clock;
    /** Reads the key files (access/provider-keys.ts `loadProviderKeys`): provider name → key. */
    readKeys: (sources: Array<{ provider: string; file: string }>) => ReadonlyMap<string, string>;
    /** Managed mode's own provider key (`managed.provider_key`), for providers without a key_file. */
    managedKey?: string | null;
    fingerprint?: (key: string) => string;
  },
): { router: ProviderRouter; name: string } {
  const list: ReadonlyArray<ProviderRouteConfig & { key_file?: string | null }> = c.providers?.length
    ? c.providers
    : [singleProvider(c.upstream_url, c.provider, providerNameForUrl)];
  // Managed mode: each provider's own key, from its key file (never from the config or the store).
  const sources =
    c.mode === 'managed'
      ? list.flatMap((p) => (p.key_file ? [{ provider: p.name, file: p.key_file }] : []))
      : [];
  const keys = deps.readKeys(sources);
  return {
    router: createProviderRouter(list, {
      policy: deps.policy,
      clock: deps.clock,
      keys,
      // A provider without a key_file is sent the managed key, in its own header (not always Bearer).
      defaultKey: c.mode === 'managed' ? (deps.managedKey ?? null) : null,
      ...(deps.fingerprint ? { fingerprint: deps.fingerprint } : {}),
    }),
    name: list[0]!.name,
  };
}
