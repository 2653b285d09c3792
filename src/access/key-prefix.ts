/** Never more than this many characters of a real key are shown anywhere (DESIGN.md `api_key_prefix`). */
export const KEY_PREFIX_MAX = 8;

/**
 * The displayable start of a key: the first 8 characters, or a quarter of the key when it is
 * shorter than 32 characters, so a short (likely malformed) key is never mostly revealed.
 * For the common formats the 8 characters are the non-secret type marker or barely more:
 * `sk-proj-`, `sk-ant-a`, `sk-svcac`, `tg-AbCd1` (5 of 43 random characters).
 * Characters outside printable ASCII become `?`, so a prefix can never break a log line or
 * terminal (a key pasted with a newline is exactly what the doctor must show safely).
 */
export function keyPrefix(rawKey: string): string {
  const visible = Math.min(KEY_PREFIX_MAX, Math.floor(rawKey.length / 4));
  let out = '';
  for (const ch of rawKey.slice(0, visible)) {
    const c = ch.charCodeAt(0);
    out += c >= 0x21 && c <= 0x7e ? ch : '?';
  }
  return out;
}
