/** Character tests shared by the hand-written scanners (char codes, ASCII only by design). */

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

export function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

/** [A-Za-z0-9_] — the `\w` of RE2 and of gitleaks' patterns. */
export function isWordChar(c: number): boolean {
  return isDigit(c) || isAsciiLetter(c) || c === 95;
}

export function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

export function isSpaceOrTab(c: number): boolean {
  return c === 32 || c === 9;
}

export function isWhitespace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}
