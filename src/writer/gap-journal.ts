import type { GapRange, GapReason } from '../integrity/gap-record.js';
import { SlotFile } from './slot-file.js';

const REASONS: readonly GapReason[] = ['queue_full', 'spool_full', 'spool_corrupt', 'crash'];
const HEX_HASH = /^[0-9a-f]{64}$/;

/**
 * Gaps whose record is not stored yet, kept beside the spool (`gaps-<instance>-<store>.json`), so a gap
 * survives a stop before the store recovers: the next start chains its record. Written in place
 * (slot-file.ts, 2 × 32 KB allocated up front, so it is still written when the disk is full),
 * each time the set changes: a gap closes, its record is stored, or the writer closes.
 */
export class GapJournal {
  private readonly file: SlotFile;

  constructor(readonly path: string) {
    this.file = new SlotFile(path, 32 * 1024);
  }

  /** Allocates the file now, while the disk has room. */
  allocate(): void {
    this.file.allocate();
  }

  /** The gaps an earlier run left unrecorded (malformed entries are skipped). */
  load(): GapRange[] {
    const body = this.file.read();
    if (body === null) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return [];
    }
    return Array.isArray(parsed) ? parsed.filter(isGapRange) : [];
  }

  /** Replaces the journal with `gaps` (durable when it returns; throws when it cannot be written). */
  save(gaps: readonly GapRange[]): void {
    this.file.write(JSON.stringify(gaps));
  }

  close(): void {
    this.file.close();
  }
}

function isGapRange(v: unknown): v is GapRange {
  if (typeof v !== 'object' || v === null) return false;
  const g = v as Record<string, unknown>;
  return (
    typeof g.chain_id === 'string' &&
    Number.isSafeInteger(g.first_seq) &&
    Number.isSafeInteger(g.last_seq) &&
    (g.first_seq as number) >= 1 &&
    (g.last_seq as number) >= (g.first_seq as number) &&
    g.count === (g.last_seq as number) - (g.first_seq as number) + 1 &&
    REASONS.includes(g.reason as GapReason) &&
    typeof g.at === 'string' &&
    typeof g.last_hash === 'string' &&
    HEX_HASH.test(g.last_hash)
  );
}
