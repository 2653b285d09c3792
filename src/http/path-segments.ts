/**
 * Refuses request paths that could walk out of the upstream's base path: a dot segment (`.` or
 * `..`, RFC 3986 §5.2.4), written plainly or percent-encoded (`%2e%2e`, `.%2E`), an encoded slash
 * or backslash (`%2f`, `%5c`) that an upstream may decode into a separator, a plain backslash
 * (some servers treat it as `/`), an empty segment (`//`: a target starting `//host/` is read as
 * another authority by URL parsers, RFC 3986 §4.2), or broken percent-encoding. The gateway forwards
 * `<base path><path>` as written, so a path that passes this check stays under the base.
 */

/** Why a path is refused, or null when it is fine. */
export type BadPathReason =
  'dot_segment' | 'encoded_separator' | 'backslash' | 'empty_segment' | 'bad_encoding';

const ENCODED_SEPARATOR = /%(?:2f|5c)/i;
const PERCENT = /%(?![0-9a-f]{2})/i;

/** Checks the path part of a request target (no query). */
export function badPathReason(path: string): BadPathReason | null {
  if (path.includes('\\')) return 'backslash';
  if (path.includes('//')) return 'empty_segment';
  // Every other reason needs a `%` or a `.` (the usual API path has neither: checked on every request).
  if (!path.includes('%') && !path.includes('.')) return null;
  if (PERCENT.test(path)) return 'bad_encoding';
  if (ENCODED_SEPARATOR.test(path)) return 'encoded_separator';
  for (const segment of path.split('/')) {
    if (segment.length === 0 || segment.length > 6) continue;
    const s = segment.replace(/%2e/gi, '.');
    if (s === '.' || s === '..') return 'dot_segment';
  }
  return null;
}
