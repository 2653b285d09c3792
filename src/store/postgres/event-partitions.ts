/**
 * Time partitions of the PostgreSQL events table (declarative partitioning, PARTITION BY RANGE
 * on `ts`). Partitions are UTC days or months, named after their start so that retention can
 * find them by name: `events_p20261126` (day) or `events_p202611` (month).
 */
export type PartitionGranularity = 'day' | 'month';

export interface PartitionRange {
  name: string;
  /** Inclusive lower bound, epoch ms (UTC midnight). */
  fromMs: number;
  /** Exclusive upper bound, epoch ms. */
  toMs: number;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** The partition holding the instant `ms`. */
export function partitionFor(ms: number, granularity: PartitionGranularity): PartitionRange {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (granularity === 'month') {
    return {
      name: `events_p${pad(y, 4)}${pad(m + 1)}`,
      fromMs: Date.UTC(y, m, 1),
      toMs: Date.UTC(y, m + 1, 1),
    };
  }
  const day = d.getUTCDate();
  return {
    name: `events_p${pad(y, 4)}${pad(m + 1)}${pad(day)}`,
    fromMs: Date.UTC(y, m, day),
    toMs: Date.UTC(y, m, day + 1),
  };
}

/** Partitions covering [fromMs, toMs] (both included), oldest first. */
export function partitionsBetween(
  fromMs: number,
  toMs: number,
  granularity: PartitionGranularity,
): PartitionRange[] {
  const out: PartitionRange[] = [];
  for (let p = partitionFor(fromMs, granularity); p.fromMs <= toMs; p = partitionFor(p.toMs, granularity))
    out.push(p);
  return out;
}

/** The partition's start, read back from its name; null for a table that is not one of ours. */
export function partitionStartFromName(name: string): number | null {
  const m = /^events_p(\d{4})(\d{2})(\d{2})?$/.exec(name);
  if (!m) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, m[3] ? Number(m[3]) : 1);
}
