/** Longest header-derived value kept in an event; longer ones are cut (and marked). */
export const MAX_HEADER_VALUE = 256;

/**
 * Makes a header value safe to store and print: control characters (CR, LF, NUL, ESC, DEL …)
 * become U+FFFD so no value can forge a log line or an ANSI sequence, and length is bounded.
 */
export function cleanHeaderValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  let v = Array.isArray(value) ? value.join(', ') : value;
  if (v.length > MAX_HEADER_VALUE) v = `${v.slice(0, MAX_HEADER_VALUE)}…`;
  v = v.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '\uFFFD');
  return v.length ? v : null;
}
