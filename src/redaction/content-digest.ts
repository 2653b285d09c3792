import { createHash } from 'node:crypto';

/**
 * What `content_mode: none` stores instead of content: `sha256:<hex>:len=<n>`.
 * The hash is over the redacted text (what `redacted` mode would have stored), so even a
 * digest is never computed over a raw secret; `n` is the UTF-8 byte length of the original
 * content, which cost and anomaly reports can use without reading it.
 */
export function contentDigest(redacted: string, original: string): string {
  const hex = createHash('sha256').update(redacted, 'utf8').digest('hex');
  return `sha256:${hex}:len=${Buffer.byteLength(original, 'utf8')}`;
}
