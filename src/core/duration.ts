/** Lengths of time written as `90s`, `15m`, `1h`, `30d`, `2w` (config values and CLI flags). */

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a duration (`15m`, `400d`), or of a plain number taken as ms; null if it is neither. */
export function parseDurationMs(value: string | number): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  const m = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(value.trim());
  if (m) return Number(m[1]) * UNITS[m[2]!]!;
  return /^\d+$/.test(value.trim()) ? Number(value.trim()) : null;
}

/** A duration for people, in its largest whole-ish unit (`3 d`, `5 h`, `42 s`). */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs >= 86_400_000)
    return `${Math.floor(ms / 86_400_000)} d ${Math.floor((abs % 86_400_000) / 3_600_000)} h`;
  if (abs >= 3_600_000)
    return `${Math.floor(ms / 3_600_000)} h ${Math.floor((abs % 3_600_000) / 60_000)} min`;
  if (abs >= 60_000) return `${Math.floor(ms / 60_000)} min`;
  return `${Math.round(ms / 1000)} s`;
}
