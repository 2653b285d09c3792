/**
 * Duplicate member names in a JSON request body. RFC 8259 §4 leaves their meaning open: JSON.parse
 * keeps the last value, other parsers (a provider's, a relay's) may keep the first. For the members
 * a policy decides on, that difference is a bypass: `{"model":"allowed","model":"other"}` would pass
 * an allow-list on one value and run the other. Such a body is refused, not repaired.
 */

/** Top-level members whose duplication is refused (the allow-list, streaming, and attribution read them). */
export const GUARDED_MEMBERS: readonly string[] = ['model', 'stream', 'user'];

/**
 * The first of `names` that appears more than once among the top-level members of the JSON object
 * `text` (names compared after unescaping, so `"mod\u0065l"` is `model`), or null. `text` must be
 * valid JSON (parse it first); one pass, no allocation for values.
 */
export function duplicateMember(text: string, names: readonly string[] = GUARDED_MEMBERS): string | null {
  const seen = new Set<string>();
  let depth = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      i++;
      let escaped = false;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i += 2;
          continue;
        }
        if (d === 0x22) break;
        i++;
      }
      const end = i + 1;
      i = end;
      if (depth !== 1) continue;
      let j = i;
      while (
        j < n &&
        (text.charCodeAt(j) === 0x20 ||
          text.charCodeAt(j) === 0x0a ||
          text.charCodeAt(j) === 0x0d ||
          text.charCodeAt(j) === 0x09)
      )
        j++;
      if (text.charCodeAt(j) !== 0x3a /* : */) continue; // a string value, not a member name
      const name = escaped ? (JSON.parse(text.slice(start, end)) as string) : text.slice(start + 1, end - 1);
      if (!names.includes(name)) continue;
      if (seen.has(name)) return name;
      seen.add(name);
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) depth++;
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
    i++;
  }
  return null;
}
