/**
 * Managed mode: the provider keys Tollgate itself sends upstream. They come from environment
 * values or files that the CLI passes in — never from the database, where a dump or backup would
 * expose them in clear.
 */
import { readFileSync } from 'node:fs';
import { TollgateError } from '../core/errors.js';
import { keyPrefix } from './key-prefix.js';

/** One provider key: `value` (read by the CLI from an environment variable) or `file` (a path). */
export type ProviderKeySource =
  | { provider: string; value: string; file?: undefined }
  | { provider: string; file: string; value?: undefined };

/** The loaded keys, one per provider id (`openai`, `anthropic`, … or any upstream name). */
export class ProviderKeyRing {
  private readonly keys: ReadonlyMap<string, string>;

  constructor(keys: ReadonlyMap<string, string>) {
    this.keys = keys;
  }

  /** Providers that have a key. */
  providers(): string[] {
    return [...this.keys.keys()];
  }

  has(provider: string): boolean {
    return this.keys.has(provider);
  }

  /** The key for `provider`; throws `TG_ERR_CONFIG_INVALID` (detail: provider) when none is configured. */
  keyFor(provider: string): string {
    const key = this.keys.get(provider);
    if (key === undefined)
      throw new TollgateError('TG_ERR_CONFIG_INVALID', { setting: 'provider_key', provider });
    return key;
  }

  /** Provider → displayable prefix, for `serve` to confirm which keys it loaded. */
  describe(): Record<string, string> {
    return Object.fromEntries([...this.keys].map(([p, k]) => [p, keyPrefix(k)]));
  }
}

/**
 * Loads provider keys. Surrounding whitespace is dropped (files written with `echo` end in a
 * newline that would otherwise go into the Authorization header); whitespace inside a key, an
 * empty key, or two keys for one provider are configuration errors (`TG_ERR_CONFIG_INVALID`,
 * detail names the provider and the problem, never the key).
 */
export function loadProviderKeys(
  sources: readonly ProviderKeySource[],
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): ProviderKeyRing {
  const keys = new Map<string, string>();
  for (const source of sources) {
    let raw: string;
    if (source.file !== undefined) {
      try {
        raw = readFile(source.file);
      } catch (err) {
        throw new TollgateError(
          'TG_ERR_CONFIG_INVALID',
          {
            setting: 'provider_key',
            provider: source.provider,
            problem: 'file_unreadable',
            path: source.file,
          },
          { cause: err },
        );
      }
    } else {
      raw = source.value;
    }
    const key = raw.trim();
    const problem =
      key === ''
        ? 'empty'
        : /\s/.test(key)
          ? 'whitespace_inside'
          : keys.has(source.provider)
            ? 'duplicate'
            : null;
    if (problem !== null)
      throw new TollgateError('TG_ERR_CONFIG_INVALID', {
        setting: 'provider_key',
        provider: source.provider,
        problem,
      });
    keys.set(source.provider, key);
  }
  return new ProviderKeyRing(keys);
}
