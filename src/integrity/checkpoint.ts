/**
 * Checkpoints in the C2SP tlog-checkpoint format (https://c2sp.org/tlog-checkpoint), signed as
 * C2SP signed notes:
 *
 *   <origin>\n            `<origin prefix>/<chain_id>`, e.g. `tollgate/gw-1`
 *   <tree size>\n         decimal, no leading zeros
 *   <root hash>\n         base64 of the 32-byte RFC 6962 root
 *   time <ISO-8601>\n     extension line: when the checkpoint was made (Clock time)
 *   key <verifier key>\n  extension line, on a rotation: a new signing key this checkpoint's signer vouches for
 *   \n
 *   — <key name> <base64(key id || Ed25519 signature)>\n
 */
import { TollgateError } from '../core/errors.js';
import { openNote, signNote, type NoteSignature, type NoteSigner, type NoteVerifier } from './signed-note.js';

/** Default first part of a checkpoint origin. */
export const DEFAULT_ORIGIN_PREFIX = 'tollgate';

export interface Checkpoint {
  origin: string;
  treeSize: number;
  /** 32-byte RFC 6962 root hash. */
  rootHash: Buffer;
  /** Epoch ms from the `time` extension line, null when the line is absent. */
  timeMs: number | null;
  /**
   * Verifier keys this checkpoint announces (a key rotation): a verifier that trusts the key that
   * signed it trusts these too. Absent or empty on ordinary checkpoints.
   */
  announcedKeys?: string[];
}

/** Origin line of a chain's checkpoints. */
export function checkpointOrigin(chainId: string, prefix = DEFAULT_ORIGIN_PREFIX): string {
  return `${prefix}/${chainId}`;
}

function invalid(reason: string): TollgateError {
  return new TollgateError('TG_ERR_INTEGRITY_NOTE_INVALID', { reason });
}

/** The checkpoint body (note text). */
export function formatCheckpoint(cp: Checkpoint): string {
  if (cp.origin.length === 0 || /[\n\r]/.test(cp.origin)) throw invalid('origin');
  if (!Number.isSafeInteger(cp.treeSize) || cp.treeSize < 0) throw invalid('tree size');
  if (cp.rootHash.length !== 32) throw invalid('root hash');
  let text = `${cp.origin}\n${cp.treeSize}\n${cp.rootHash.toString('base64')}\n`;
  if (cp.timeMs !== null) text += `time ${new Date(cp.timeMs).toISOString()}\n`;
  for (const k of cp.announcedKeys ?? []) {
    if (/[\s]/.test(k) || k.length === 0) throw invalid('announced key');
    text += `key ${k}\n`;
  }
  return text;
}

/** Parses a checkpoint body; unknown extension lines are ignored, as the spec allows. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw invalid('checkpoint text');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw invalid('checkpoint lines');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (origin.length === 0) throw invalid('origin');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText)))
    throw invalid('tree size');
  const rootHash = Buffer.from(rootText, 'base64');
  if (rootHash.length !== 32 || rootHash.toString('base64') !== rootText) throw invalid('root hash');
  let timeMs: number | null = null;
  const announcedKeys: string[] = [];
  for (const line of lines.slice(3)) {
    if (line.startsWith('time ')) {
      const t = Date.parse(line.slice(5));
      if (Number.isNaN(t)) throw invalid('time');
      timeMs = t;
    } else if (line.startsWith('key ')) announcedKeys.push(line.slice(4));
  }
  return {
    origin,
    treeSize: Number(sizeText),
    rootHash,
    timeMs,
    ...(announcedKeys.length > 0 ? { announcedKeys } : {}),
  };
}

/** Formats and signs a checkpoint: the full signed note. */
export function signCheckpoint(cp: Checkpoint, signers: readonly NoteSigner[]): string {
  return signNote(formatCheckpoint(cp), signers);
}

export type OpenedCheckpoint =
  | { ok: true; checkpoint: Checkpoint; signatures: NoteSignature[]; verifiedBy: NoteVerifier[] }
  | { ok: false; reason: 'malformed' | 'unknown_key' | 'bad_signature'; checkpoint: Checkpoint | null };

/** Checks a checkpoint note's signatures against the known keys and parses its body. */
export function openCheckpoint(note: string, verifiers: readonly NoteVerifier[]): OpenedCheckpoint {
  const opened = openNote(note, verifiers);
  let checkpoint: Checkpoint | null = null;
  if (opened.text !== null) {
    try {
      checkpoint = parseCheckpoint(opened.text);
    } catch {
      return { ok: false, reason: 'malformed', checkpoint: null };
    }
  }
  if (!opened.ok) return { ok: false, reason: opened.reason, checkpoint };
  return { ok: true, checkpoint: checkpoint!, signatures: opened.signatures, verifiedBy: opened.verifiedBy };
}
