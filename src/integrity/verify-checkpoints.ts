/**
 * The checkpoints of one chain as `verify` sees them: every stored and witnessed note opened with
 * the trusted keys (a bad signature, an unknown key or another log's origin is damage of its own),
 * the valid ones sorted by tree size for the chain walk to compare roots with, and the staleness
 * check on the newest one.
 */
import { formatDuration } from '../core/duration.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import { checkpointOrigin, openCheckpoint, type Checkpoint } from './checkpoint.js';
import type { NoteVerifier } from './signed-note.js';
import type { Damage, VerifyOptions } from './verify-report.js';

export interface ValidCheckpoint {
  checkpoint: Checkpoint;
  note: string;
  fromWitness: boolean;
}

export interface ChainCheckpoints {
  /** Valid checkpoints by tree size, ascending (deduplicated on size + root). */
  valid: ValidCheckpoint[];
  /** Damage found in the checkpoints themselves, positioned by tree size. */
  problems: { size: number; damage: Damage }[];
  checked: number;
  /** The frontier stored with each stored note (untrusted until folded to its signed root). */
  frontiers: Map<string, string[] | null>;
}

export function chainIdFromOrigin(origin: string, prefix: string): string | null {
  return origin.startsWith(prefix + '/') && origin.length > prefix.length + 1
    ? origin.slice(prefix.length + 1)
    : null;
}

export function chainIdFromNote(note: string, prefix: string): string | null {
  const nl = note.indexOf('\n');
  return nl > 0 ? chainIdFromOrigin(note.slice(0, nl), prefix) : null;
}

/** Opens every stored and witnessed checkpoint note of a chain (see the module comment). */
export async function loadCheckpoints(
  chainId: string,
  store: CheckpointStore,
  witnessNotes: readonly string[],
  keys: readonly NoteVerifier[],
  prefix: string,
): Promise<ChainCheckpoints> {
  const origin = checkpointOrigin(chainId, prefix);
  const stored = await store.list(chainId);
  const storedNotes = new Set(stored.map((s) => s.note));
  const valid: ValidCheckpoint[] = [];
  const problems: ChainCheckpoints['problems'] = [];
  const consider = (note: string, fallbackSize: number | null, fromWitness: boolean): void => {
    const opened = openCheckpoint(note, keys);
    const size = opened.checkpoint?.treeSize ?? fallbackSize ?? 0;
    const where = fromWitness ? 'witness checkpoint' : 'checkpoint';
    const forged = (why: string): void => {
      problems.push({
        size,
        damage: {
          kind: 'checkpoint_forged',
          chain_id: chainId,
          seq: null,
          event_id: null,
          checkpoint_size: size,
          detail: `${where} at tree size ${size}: ${why}`,
        },
      });
    };
    if (!opened.ok) {
      forged(
        opened.reason === 'unknown_key'
          ? 'not signed by any known key'
          : opened.reason === 'bad_signature'
            ? 'signature does not verify'
            : 'malformed note',
      );
      return;
    }
    if (opened.checkpoint.origin !== origin) {
      forged('signed for another log (origin mismatch)');
      return;
    }
    if (fromWitness && !storedNotes.has(note)) {
      problems.push({
        size,
        damage: {
          kind: 'checkpoint_missing',
          chain_id: chainId,
          seq: null,
          event_id: null,
          checkpoint_size: size,
          detail: `the witness holds a checkpoint at tree size ${size} that the store does not`,
        },
      });
    }
    valid.push({ checkpoint: opened.checkpoint, note, fromWitness });
  };
  for (const s of stored) consider(s.note, s.tree_size, false);
  for (const n of witnessNotes) consider(n, null, true);
  valid.sort((a, b) => a.checkpoint.treeSize - b.checkpoint.treeSize);
  problems.sort((a, b) => a.size - b.size);
  return {
    valid,
    problems,
    checked: stored.length + witnessNotes.length,
    frontiers: new Map(stored.map((s) => [s.note, s.frontier])),
  };
}

/** `checkpoint_missing` when the newest valid checkpoint is older than `maxCheckpointAgeMs`. */
export function staleness(
  chainId: string,
  newest: ValidCheckpoint | null,
  options: VerifyOptions,
  size: number,
): Damage | null {
  if (options.maxCheckpointAgeMs === undefined || !options.clock) return null;
  const now = options.clock.now();
  const t = newest?.checkpoint.timeMs ?? null;
  if (t !== null && now - t <= options.maxCheckpointAgeMs) return null;
  if (newest === null && size === 0) return null;
  return {
    kind: 'checkpoint_missing',
    chain_id: chainId,
    seq: null,
    event_id: null,
    checkpoint_size: newest?.checkpoint.treeSize ?? null,
    detail:
      newest === null
        ? 'the chain has events but no valid checkpoint'
        : `the newest valid checkpoint (tree size ${newest.checkpoint.treeSize}${t === null ? ', no time' : `, ${formatDuration(now - t)} old`}) is older than ${formatDuration(options.maxCheckpointAgeMs)}: heartbeats stopped or checkpoints were removed`,
  };
}
