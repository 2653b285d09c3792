/**
 * A header value as one string: a repeated header joined with `, ` (RFC 9110 §5.3), an empty one
 * as null. Nothing else happens here on purpose: the cleaning every client value gets (Unicode,
 * control characters, secrets, then the bound) is done once, after capture, by
 * src/redaction/field-cleaning.ts; a cut here would cut a secret before it could be recognised.
 */
export function cleanHeaderValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  const v = Array.isArray(value) ? value.join(', ') : value;
  return v.length ? v : null;
}
