/**
 * PEM private keys (gitleaks rule `private-key`): `-----BEGIN … PRIVATE KEY-----`, at least
 * 64 characters of key material, `-----END … PRIVATE KEY-----`. A key cut off before its END
 * line (a truncated stream, a pasted fragment) is redacted to the end of its base64 body.
 * Hand-written scan: every position is visited a bounded number of times.
 */
import type { Detector, Finding } from './detector.js';
import { isAsciiLetter, isDigit, isWhitespace } from './char-classes.js';

const BEGIN = '-----BEGIN ';
const DASHES = '-----';
// gitleaks: `-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----`
const MAX_LABEL = 100;
const MIN_BODY = 64;

function isBodyChar(c: number): boolean {
  // base64 plus the whitespace and JSON escapes (\n) that carry it inside tool-call arguments.
  return (
    isAsciiLetter(c) ||
    isDigit(c) ||
    c === 43 ||
    c === 47 ||
    c === 61 ||
    c === 92 ||
    c === 58 ||
    c === 44 ||
    c === 45 ||
    isWhitespace(c)
  );
}

export class PrivateKeyDetector implements Detector {
  readonly type = 'private_key' as const;

  find(text: string, out: Finding[]): void {
    let from = 0;
    for (;;) {
      const start = text.indexOf(BEGIN, from);
      if (start < 0) return;
      const labelStart = start + BEGIN.length;
      const labelEnd = text.indexOf(DASHES, labelStart);
      if (labelEnd < 0 || labelEnd - labelStart > MAX_LABEL) {
        from = labelStart;
        continue;
      }
      const label = text.slice(labelStart, labelEnd);
      if (!label.endsWith('PRIVATE KEY') && !label.endsWith('PRIVATE KEY BLOCK')) {
        from = labelEnd;
        continue;
      }
      const bodyStart = labelEnd + DASHES.length;
      // The body runs over base64 and header lines (Proc-Type: …, DEK-Info: …) up to the END line.
      let i = bodyStart;
      let material = 0;
      while (i < text.length && isBodyChar(text.charCodeAt(i))) {
        // Five dashes open the END line (or another BEGIN: then this body is empty).
        if (text.startsWith(DASHES, i)) break;
        if (!isWhitespace(text.charCodeAt(i))) material++;
        i++;
      }
      if (material < MIN_BODY) {
        from = bodyStart;
        continue;
      }
      let end = i;
      if (text.startsWith('-----END', i)) {
        const close = text.indexOf(DASHES, i + 8);
        end = close >= 0 && close - i <= MAX_LABEL + 8 ? close + DASHES.length : i + 8;
      } else {
        // No END line: stop at the last body character, not at trailing whitespace.
        while (end > bodyStart && isWhitespace(text.charCodeAt(end - 1))) end--;
      }
      out.push({ type: this.type, start, end });
      from = end;
    }
  }
}
