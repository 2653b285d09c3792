/**
 * Where `verify` records the newest signed checkpoint it verified, per chain, so that a later
 * `verify --since-checkpoint` (and the gateway's self-check) checks only the events after it.
 *
 * The record is a JSON-lines file beside the anchor file (`verified-<store id>.jsonl`, mode 0600),
 * outside the store: whoever rewrites the database cannot move it. It holds the checkpoint's signed
 * note, not a bare size, so a line cannot name a checkpoint the key never signed; the incremental
 * run checks that signature again with the trusted keys, checks the stored frontier against the
 * signed root, and ties the hash of the checkpoint's last event to that root before it continues
 * from there (verify-since.ts). What it trusts is that the checkpoint was verified when the line
 * was written: whoever can write the anchor folder could claim that, as they could rewrite the
 * anchors themselves (docs/integrity.md "Incremental verify").
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { VerifyReport } from './verify.js';

/** One line of the file. */
export interface VerifiedCheckpoint {
  chain_id: string;
  tree_size: number;
  /** The signed checkpoint note. */
  note: string;
  /** When the run that verified it finished (epoch ms). */
  verified_ms: number;
}

/** The record file beside an anchor file (`checkpoints-<id>.jsonl` → `verified-<id>.jsonl`). */
export function verifiedCheckpointsPath(anchorFile: string): string {
  const name = basename(anchorFile).replace(/^checkpoints-/, 'verified-');
  return join(dirname(anchorFile), name === basename(anchorFile) ? `${name}.verified` : name);
}

/** The newest record of each chain (the last line wins; torn or foreign lines are skipped). */
export function readVerifiedCheckpoints(path: string): Map<string, VerifiedCheckpoint> {
  const out = new Map<string, VerifiedCheckpoint>();
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as Partial<VerifiedCheckpoint>;
      if (
        typeof r.chain_id === 'string' &&
        typeof r.tree_size === 'number' &&
        typeof r.note === 'string' &&
        typeof r.verified_ms === 'number'
      )
        out.set(r.chain_id, {
          chain_id: r.chain_id,
          tree_size: r.tree_size,
          note: r.note,
          verified_ms: r.verified_ms,
        });
    } catch {
      // a torn last line: the earlier records stand
    }
  }
  return out;
}

/**
 * Appends the newest verified checkpoint of every chain that verified intact and has moved past
 * its last record. Returns how many lines were written.
 */
export function recordVerifiedCheckpoints(
  path: string,
  report: VerifyReport,
  nowMs: number,
  known: ReadonlyMap<string, VerifiedCheckpoint> = readVerifiedCheckpoints(path),
): number {
  const lines: string[] = [];
  for (const c of report.chains) {
    const cp = c.latest_checkpoint;
    if (!c.ok || c.damage !== null || cp === null) continue;
    if ((known.get(c.chain_id)?.tree_size ?? -1) >= cp.tree_size) continue;
    const line: VerifiedCheckpoint = {
      chain_id: c.chain_id,
      tree_size: cp.tree_size,
      note: cp.note,
      verified_ms: nowMs,
    };
    lines.push(JSON.stringify(line));
  }
  if (lines.length > 0) appendFileSync(path, lines.join('\n') + '\n', { mode: 0o600 });
  return lines.length;
}
