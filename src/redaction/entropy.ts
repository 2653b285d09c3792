/**
 * Shannon entropy in bits per character. gitleaks uses the same measure (with per-rule
 * thresholds) to tell random key material from placeholders such as `AKIAXXXXXXXXXXXXXXXX`.
 */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}
