/**
 * Values that sit where a secret would but are not one: template variables, empty
 * markers, documentation placeholders, and our own `[REDACTED:…]` markers (so redaction
 * is idempotent). The lists follow gitleaks' global allowlist (`config/gitleaks.toml`).
 */
const PLACEHOLDER_WORDS = new Set([
  'true',
  'false',
  'null',
  'nil',
  'none',
  'undefined',
  'empty',
  'required',
  'optional',
  'example',
  'redacted',
  'hidden',
  'masked',
  'secret',
  'password',
  'passwd',
  'token',
  'changeme',
  'changeit',
  'your_password',
  'yourpassword',
  'your-password',
  'mypassword',
  'placeholder',
]);

/** True when `value` is a placeholder, a variable reference or already redacted. */
export function isPlaceholderValue(value: string): boolean {
  if (value.length === 0) return true;
  const first = value.charCodeAt(0);
  // $VAR ${VAR} $(cmd) %VAR% {{ tpl }} <value> [value] *** — references and masks, not values.
  if (first === 36 || first === 37 || first === 123 || first === 60 || first === 91 || first === 42)
    return true;
  // Our own markers, and AWS documentation keys (AKIAIOSFODNN7EXAMPLE, …EXAMPLEKEY).
  if (value.includes('REDACTED') || value.includes('EXAMPLE')) return true;
  const lower = value.toLowerCase();
  if (PLACEHOLDER_WORDS.has(lower)) return true;
  // One character repeated (xxxxxxxx, 00000000, ........).
  let same = true;
  for (let i = 1; i < value.length; i++) {
    if (value.charCodeAt(i) !== first) {
      same = false;
      break;
    }
  }
  return same;
}
