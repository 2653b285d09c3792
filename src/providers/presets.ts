import type { ProviderPreset } from './provider-preset.js';

const OPENAI_RATE_LIMIT = {
  requests: 'x-ratelimit-remaining-requests',
  tokens: 'x-ratelimit-remaining-tokens',
};
const NO_RATE_LIMIT = { requests: null, tokens: null };

function openAICompatible(
  p: Pick<ProviderPreset, 'id' | 'baseUrl' | 'apiHosts' | 'keyPrefixes' | 'minKeyLength' | 'consoleHosts'> &
    Partial<ProviderPreset>,
): ProviderPreset {
  return {
    api: 'openai',
    apiHostSuffixes: [],
    keyHeader: 'authorization',
    requiredHeaders: {},
    rateLimitHeaders: OPENAI_RATE_LIMIT,
    ...p,
  };
}

/**
 * The providers known by name. Key formats as the providers document or issue them (as of 2026):
 * OpenAI `sk-` (`sk-proj-`, `sk-svcacct-`, legacy `sk-`), Anthropic `sk-ant-`, DeepSeek `sk-`,
 * Groq `gsk_`, OpenRouter `sk-or-`, xAI `xai-`, Google AI Studio `AIza`, Perplexity `pplx-`.
 * Mistral, Together and Azure keys have no fixed prefix; local servers (Ollama, vLLM) need none.
 * Rate-limit headers: OpenAI's `x-ratelimit-remaining-*` (also Groq, Together, DeepSeek-style
 * relays), Anthropic's `anthropic-ratelimit-*-remaining`.
 */
export const PRESETS: readonly ProviderPreset[] = [
  openAICompatible({
    id: 'openai',
    baseUrl: 'https://api.openai.com/v1',
    apiHosts: ['api.openai.com'],
    keyPrefixes: ['sk-'],
    minKeyLength: 40,
    consoleHosts: ['platform.openai.com', 'chat.openai.com', 'chatgpt.com', 'openai.com', 'www.openai.com'],
  }),
  {
    id: 'anthropic',
    api: 'anthropic',
    baseUrl: 'https://api.anthropic.com/v1',
    apiHosts: ['api.anthropic.com'],
    apiHostSuffixes: [],
    keyHeader: 'x-api-key',
    // Required on every Anthropic API request (https://docs.anthropic.com/en/api/versioning).
    requiredHeaders: { 'anthropic-version': '2023-06-01' },
    keyPrefixes: ['sk-ant-'],
    minKeyLength: 40,
    consoleHosts: ['console.anthropic.com', 'claude.ai', 'anthropic.com', 'www.anthropic.com'],
    rateLimitHeaders: {
      requests: 'anthropic-ratelimit-requests-remaining',
      tokens: 'anthropic-ratelimit-tokens-remaining',
    },
  },
  {
    id: 'gemini',
    api: 'gemini',
    // The OpenAI-compatible surface, for OpenAI clients; the native API is under /v1beta/models.
    baseUrl: 'https://generativelanguage.googleapis.com/v1beta/openai',
    apiHosts: ['generativelanguage.googleapis.com'],
    apiHostSuffixes: [],
    keyHeader: 'x-goog-api-key',
    requiredHeaders: {},
    keyPrefixes: ['AIza'],
    minKeyLength: 39,
    consoleHosts: ['aistudio.google.com'],
    rateLimitHeaders: NO_RATE_LIMIT,
  },
  openAICompatible({
    id: 'azure',
    // Azure OpenAI's v1 API: https://<resource>.openai.azure.com/openai/v1 (key in `api-key`).
    baseUrl: 'https://RESOURCE.openai.azure.com/openai/v1',
    apiHosts: [],
    apiHostSuffixes: ['.openai.azure.com', '.services.ai.azure.com', '.cognitiveservices.azure.com'],
    keyHeader: 'api-key',
    keyPrefixes: [],
    minKeyLength: 32,
    consoleHosts: ['portal.azure.com', 'ai.azure.com', 'oai.azure.com'],
  }),
  openAICompatible({
    id: 'deepseek',
    baseUrl: 'https://api.deepseek.com/v1',
    apiHosts: ['api.deepseek.com'],
    keyPrefixes: ['sk-'],
    minKeyLength: 30,
    consoleHosts: ['platform.deepseek.com', 'chat.deepseek.com', 'deepseek.com', 'www.deepseek.com'],
  }),
  openAICompatible({
    id: 'groq',
    baseUrl: 'https://api.groq.com/openai/v1',
    apiHosts: ['api.groq.com'],
    keyPrefixes: ['gsk_'],
    minKeyLength: 40,
    consoleHosts: ['console.groq.com', 'groq.com'],
  }),
  openAICompatible({
    id: 'openrouter',
    baseUrl: 'https://openrouter.ai/api/v1',
    apiHosts: ['openrouter.ai'],
    keyPrefixes: ['sk-or-'],
    minKeyLength: 40,
    consoleHosts: [],
    rateLimitHeaders: NO_RATE_LIMIT,
  }),
  openAICompatible({
    id: 'xai',
    baseUrl: 'https://api.x.ai/v1',
    apiHosts: ['api.x.ai'],
    keyPrefixes: ['xai-'],
    minKeyLength: 40,
    consoleHosts: ['console.x.ai', 'x.ai'],
  }),
  openAICompatible({
    id: 'perplexity',
    baseUrl: 'https://api.perplexity.ai',
    apiHosts: ['api.perplexity.ai'],
    keyPrefixes: ['pplx-'],
    minKeyLength: 40,
    consoleHosts: ['perplexity.ai', 'www.perplexity.ai'],
    rateLimitHeaders: NO_RATE_LIMIT,
  }),
  openAICompatible({
    id: 'mistral',
    baseUrl: 'https://api.mistral.ai/v1',
    apiHosts: ['api.mistral.ai'],
    keyPrefixes: [],
    minKeyLength: 32,
    consoleHosts: ['console.mistral.ai', 'chat.mistral.ai', 'mistral.ai'],
    rateLimitHeaders: NO_RATE_LIMIT,
  }),
  openAICompatible({
    id: 'together',
    baseUrl: 'https://api.together.xyz/v1',
    apiHosts: ['api.together.xyz', 'api.together.ai'],
    keyPrefixes: [],
    minKeyLength: 40,
    consoleHosts: ['together.ai', 'www.together.ai'],
  }),
  openAICompatible({
    id: 'ollama',
    // Ollama's OpenAI-compatible surface; its native /api/chat and /api/generate sit beside it.
    baseUrl: 'http://127.0.0.1:11434/v1',
    apiHosts: [],
    keyPrefixes: [],
    minKeyLength: 0,
    consoleHosts: [],
    rateLimitHeaders: NO_RATE_LIMIT,
  }),
  openAICompatible({
    id: 'vllm',
    baseUrl: 'http://127.0.0.1:8000/v1',
    apiHosts: [],
    keyPrefixes: [],
    minKeyLength: 0,
    consoleHosts: [],
    rateLimitHeaders: NO_RATE_LIMIT,
  }),
];
