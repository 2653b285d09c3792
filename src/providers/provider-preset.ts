import type { ApiFamily, KeyHeader } from './provider-api.js';

/** A provider Tollgate knows by name: where its API is, how its keys look and travel. */
export interface ProviderPreset {
  /** The name recorded as `api_provider` and accepted by `--upstream NAME`. */
  id: string;
  /** The wire format it speaks natively. */
  api: ApiFamily;
  /** The base URL clients use (OpenAI-compatible clients append `/chat/completions`). */
  baseUrl: string;
  /** Hostnames of the API (exact match). */
  apiHosts: readonly string[];
  /** Host suffixes of per-customer API hosts (Azure: `<resource>.openai.azure.com`). */
  apiHostSuffixes: readonly string[];
  /** The header its keys travel in. */
  keyHeader: KeyHeader;
  /** Headers every request needs besides the key (Anthropic's API version). */
  requiredHeaders: Readonly<Record<string, string>>;
  /** Known key prefixes; empty when the provider's keys have no fixed prefix. */
  keyPrefixes: readonly string[];
  /** Shortest plausible key length. */
  minKeyLength: number;
  /** The provider's web console hosts, which people paste by mistake. */
  consoleHosts: readonly string[];
  /** Response headers that report the remaining rate limit (requests, tokens), lower case. */
  rateLimitHeaders: { requests: string | null; tokens: string | null };
}

/** The upstream request headers that carry `key` for a provider whose keys travel in `header`. */
export function keyHeaders(header: KeyHeader, key: string): Record<string, string> {
  return header === 'authorization' ? { authorization: `Bearer ${key}` } : { [header]: key };
}
