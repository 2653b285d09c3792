/** Reading fields of provider JSON whose shape is not trusted (relays send anything). */

/** A JSON object (not an array), or null. */
export function objectOr(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** A string, a number as text, or null. */
export function stringOr(v: unknown): string | null {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
}

/** The items of an array that are objects (an absent or malformed list is empty). */
export function objectsOf(v: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(v)) return [];
  const out: Array<Record<string, unknown>> = [];
  for (const item of v) {
    const o = objectOr(item);
    if (o) out.push(o);
  }
  return out;
}

/** Pieces joined by a newline, or null when there are none. */
export function joinedOrNull(parts: readonly string[]): string | null {
  return parts.length ? parts.join('\n') : null;
}
