/**
 * The one provider registry: which provider API a path is, which provider a host or a name is.
 * The gateway, the SDK, capture, pricing and the doctor all ask here.
 */
import { anthropicMessages } from './anthropic/messages.js';
import { geminiGenerateContent } from './gemini/generate-content.js';
import { genericApi } from './generic-api.js';
import { ollamaNative } from './ollama/native.js';
import { openAIAudio } from './openai/audio.js';
import { openAIChat } from './openai/chat.js';
import { openAICompletions } from './openai/completions.js';
import { openAIEmbeddings } from './openai/embeddings.js';
import { openAIImages } from './openai/images.js';
import { openAIModerations } from './openai/moderations.js';
import { openAIResponses } from './openai/responses.js';
import type { ProviderApi } from './provider-api.js';
import type { ProviderPreset } from './provider-preset.js';
import { PRESETS } from './presets.js';

/** Every API with a spec, most specific first (chat before legacy completions). */
export const PROVIDER_APIS: readonly ProviderApi[] = [
  openAIChat,
  openAICompletions,
  openAIResponses,
  openAIEmbeddings,
  openAIImages,
  openAIAudio,
  openAIModerations,
  anthropicMessages,
  geminiGenerateContent,
  ollamaNative,
];

/** A version segment of an API path: `/v1`, `/v1beta`, `/v2alpha1`. */
const VERSION_SEGMENT = /\/v\d+(?:alpha|beta)?\d*(?=\/|$)/;
/** A version segment that ends a base path (`upstreamPath`, every request: compiled once). */
const TRAILING_VERSION_SEGMENT = new RegExp(`${VERSION_SEGMENT.source}$`);

/**
 * The endpoint an event records: the path after its version segment, without the query
 * (`/v1/chat/completions` → `/chat/completions`, `/openai/v1/…` → `/…`,
 * `/v1beta/models/gemini-2.5-flash:generateContent` → `/models/gemini-2.5-flash:generateContent`);
 * a path without one is kept whole (`/api/chat`).
 */
export function endpointOf(pathname: string): string {
  const q = pathname.indexOf('?');
  const path = q < 0 ? pathname : pathname.slice(0, q);
  const m = VERSION_SEGMENT.exec(path);
  if (!m) return path || '/';
  return path.slice(m.index + m[0].length) || '/';
}

/** The API serving `endpoint` (see `endpointOf`); the generic reader when no spec claims it. */
export function apiForEndpoint(endpoint: string): ProviderApi {
  for (const api of PROVIDER_APIS) if (api.matches(endpoint)) return api;
  return genericApi;
}

/**
 * The upstream path for a client's `path` (query included) under a provider's base path. A version
 * segment the client sent is replaced by the base's own (`/v1/messages` under `/v1` stays
 * `/v1/messages`, under `` it is `/v1/messages`; `/v1/chat/completions` under `/openai/v1` is
 * `/openai/v1/chat/completions`); an OpenAI-compatible base without a version keeps today's rule
 * (the client's `/v1` is dropped: `https://api.deepseek.com` + `/chat/completions`). A path
 * without a version goes under the base minus its version (`/api/chat` under Ollama's `/v1` is
 * `/api/chat`).
 */
export function upstreamPath(basePath: string, path: string, openAIStyle: boolean): string {
  const base = basePath.replace(/\/+$/, '');
  const baseVersion = TRAILING_VERSION_SEGMENT.exec(base);
  const root = baseVersion ? base.slice(0, baseVersion.index) : base;
  const m = VERSION_SEGMENT.exec(path);
  if (m && m.index === 0) {
    const rest = path.slice(m[0].length);
    if (baseVersion) return root + baseVersion[0] + rest;
    return openAIStyle ? base + rest : base + path;
  }
  return root + path;
}

/** A preset by name (`openai`, `deepseek`, `azure`, …). */
export function presetByName(name: string): ProviderPreset | null {
  const n = name.toLowerCase();
  return PRESETS.find((p) => p.id === n) ?? null;
}

/** The provider whose API is served at `hostname`, or null for a self-hosted or unknown upstream. */
export function presetForApiHost(hostname: string): ProviderPreset | null {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return PRESETS.find((p) => p.apiHosts.includes(h) || p.apiHostSuffixes.some((s) => h.endsWith(s))) ?? null;
}

/** The provider whose web console (not API) is at `hostname`. */
export function presetForConsoleHost(hostname: string): ProviderPreset | null {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return PRESETS.find((p) => p.consoleHosts.includes(h)) ?? null;
}

/**
 * The `api_provider` of calls to `url`: a known provider's name, `local` for a loopback server,
 * else the host itself.
 */
export function providerNameForUrl(url: string | URL): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  const known = presetForApiHost(u.hostname);
  if (known) return known.id;
  const host = u.hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' ? 'local' : host;
}
