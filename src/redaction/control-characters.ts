/**
 * Neutralises characters that can forge or hide lines in text output (log files, CLI tables,
 * JSONL read by humans): C0 controls including CR and LF, DEL, C1 controls, the Unicode line
 * and paragraph separators, and bidirectional overrides (CVE-2021-42574, "Trojan Source").
 * Each run becomes one space; the result is trimmed.
 */
const CONTROL_RUN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;

export function stripControlCharacters(value: string): string {
  // A character-class run has no nested quantifier: linear in the input.
  if (!CONTROL_RUN.test(value)) {
    CONTROL_RUN.lastIndex = 0;
    return value;
  }
  CONTROL_RUN.lastIndex = 0;
  return value.replace(CONTROL_RUN, ' ').trim();
}
