/** What Tollgate knows about a provider's public API, for key selection and the doctor. */
export interface ProviderInfo {
  id: string;
  /** Hostnames of the API (exact match). */
  apiHosts: readonly string[];
  /** Known key prefixes; empty when the provider's keys have no fixed prefix. */
  keyPrefixes: readonly string[];
  /** Shortest plausible key length. */
  minKeyLength: number;
  /** The base URL clients should use. */
  baseUrl: string;
  /** The provider's web console hosts, which people paste by mistake. */
  consoleHosts: readonly string[];
}

/**
 * Key formats as the providers document or issue them (as of 2026): OpenAI `sk-` (`sk-proj-`,
 * `sk-svcacct-`, legacy `sk-`), Anthropic `sk-ant-`, DeepSeek `sk-`, Groq `gsk_`, OpenRouter
 * `sk-or-`, xAI `xai-`, Google AI Studio `AIza`, Perplexity `pplx-`. Mistral and Together keys
 * have no fixed prefix.
 */
export const PROVIDERS: readonly ProviderInfo[] = [
  {
    id: 'openai',
    apiHosts: ['api.openai.com'],
    keyPrefixes: ['sk-'],
    minKeyLength: 40,
    baseUrl: 'https://api.openai.com/v1',
    consoleHosts: ['platform.openai.com', 'chat.openai.com', 'chatgpt.com', 'openai.com', 'www.openai.com'],
  },
  {
    id: 'anthropic',
    apiHosts: ['api.anthropic.com'],
    keyPrefixes: ['sk-ant-'],
    minKeyLength: 40,
    baseUrl: 'https://api.anthropic.com/v1',
    consoleHosts: ['console.anthropic.com', 'claude.ai', 'anthropic.com', 'www.anthropic.com'],
  },
  {
    id: 'deepseek',
    apiHosts: ['api.deepseek.com'],
    keyPrefixes: ['sk-'],
    minKeyLength: 30,
    baseUrl: 'https://api.deepseek.com/v1',
    consoleHosts: ['platform.deepseek.com', 'chat.deepseek.com', 'deepseek.com', 'www.deepseek.com'],
  },
  {
    id: 'groq',
    apiHosts: ['api.groq.com'],
    keyPrefixes: ['gsk_'],
    minKeyLength: 40,
    baseUrl: 'https://api.groq.com/openai/v1',
    consoleHosts: ['console.groq.com', 'groq.com'],
  },
  {
    id: 'openrouter',
    apiHosts: ['openrouter.ai'],
    keyPrefixes: ['sk-or-'],
    minKeyLength: 40,
    baseUrl: 'https://openrouter.ai/api/v1',
    consoleHosts: [],
  },
  {
    id: 'xai',
    apiHosts: ['api.x.ai'],
    keyPrefixes: ['xai-'],
    minKeyLength: 40,
    baseUrl: 'https://api.x.ai/v1',
    consoleHosts: ['console.x.ai', 'x.ai'],
  },
  {
    id: 'google',
    apiHosts: ['generativelanguage.googleapis.com'],
    keyPrefixes: ['AIza'],
    minKeyLength: 39,
    baseUrl: 'https://generativelanguage.googleapis.com/v1beta/openai',
    consoleHosts: ['aistudio.google.com'],
  },
  {
    id: 'perplexity',
    apiHosts: ['api.perplexity.ai'],
    keyPrefixes: ['pplx-'],
    minKeyLength: 40,
    baseUrl: 'https://api.perplexity.ai',
    consoleHosts: ['perplexity.ai', 'www.perplexity.ai'],
  },
  {
    id: 'mistral',
    apiHosts: ['api.mistral.ai'],
    keyPrefixes: [],
    minKeyLength: 32,
    baseUrl: 'https://api.mistral.ai/v1',
    consoleHosts: ['console.mistral.ai', 'chat.mistral.ai', 'mistral.ai'],
  },
  {
    id: 'together',
    apiHosts: ['api.together.xyz', 'api.together.ai'],
    keyPrefixes: [],
    minKeyLength: 40,
    baseUrl: 'https://api.together.xyz/v1',
    consoleHosts: ['together.ai', 'www.together.ai'],
  },
];

/** The provider whose API is served at `hostname`, or null for a self-hosted or unknown upstream. */
export function providerForApiHost(hostname: string): ProviderInfo | null {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return PROVIDERS.find((p) => p.apiHosts.includes(h)) ?? null;
}

/** The provider whose web console (not API) is at `hostname`. */
export function providerForConsoleHost(hostname: string): ProviderInfo | null {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return PROVIDERS.find((p) => p.consoleHosts.includes(h)) ?? null;
}

/** A provider by id (`openai`, `anthropic`, …). */
export function providerById(id: string): ProviderInfo | null {
  return PROVIDERS.find((p) => p.id === id) ?? null;
}
