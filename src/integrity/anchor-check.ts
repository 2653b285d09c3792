/**
 * The checks `verify` runs beside the chain walk when anchors are known (anchors.ts): which
 * anchors were read, how old each chain's newest checkpoint is, checkpoints signed by a key the
 * anchors never trusted (a replaced signing key), and, with `strict`, chains the anchors do not
 * cover. The chain walk itself already compares the store with the anchored checkpoints (they are
 * passed as witness notes): a shorter chain, another root, a missing checkpoint.
 */
import { formatDuration } from '../core/duration.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import { openCheckpoint } from './checkpoint.js';
import { parseNote, type NoteVerifier } from './signed-note.js';
import type { AnchorContents } from './anchors.js';
import type { VerifyReport } from './verify.js';

/** Per chain: newest verified checkpoint, its age, and how far the anchors reach. */
export interface ChainAnchorStatus {
  chain_id: string;
  newest_checkpoint: { tree_size: number; time: string | null; age_ms: number | null } | null;
  /** Largest tree size among the anchored checkpoints of this chain; null when none. */
  anchored_size: number | null;
}

/** The anchors part of a verify report (`--json`: the `anchors` field). */
export interface AnchorReport {
  /** The anchor file read, or null when there was none. */
  file: string | null;
  anchored_checkpoints: number;
  pinned_keys: number;
  /** Where the trusted keys came from. */
  keys_from: 'flag' | 'anchors' | 'data-folder keyring';
  max_checkpoint_age_ms: number | null;
  chains: ChainAnchorStatus[];
  /** Things to know that are not failures (e.g. the anchor folder is group-writable). */
  warnings: string[];
}

export interface AnchorCheckInput {
  report: VerifyReport;
  checkpoints: CheckpointStore;
  anchors: AnchorContents | null;
  /** Keys of the data-folder keyring: only to name a key that signed without being trusted. */
  keyring: readonly NoteVerifier[];
  keysFrom: AnchorReport['keys_from'];
  nowMs: number;
  maxAgeMs: number | null;
  /** Chains with events but no anchored checkpoint fail (no anchor file at all fails too). */
  strict: boolean;
  warnings?: string[];
}

/**
 * Adds the anchor findings to `report` (a damaged chain keeps its first damage; the report's `ok`
 * and `first_damage` are updated) and returns the anchors section.
 */
export async function applyAnchorChecks(input: AnchorCheckInput): Promise<AnchorReport> {
  const { report, anchors } = input;
  const warnings = [...(input.warnings ?? [])];
  const anchoredSize = new Map<string, number>();
  for (const a of anchors?.checkpoints ?? [])
    anchoredSize.set(a.chain_id, Math.max(anchoredSize.get(a.chain_id) ?? 0, a.tree_size));
  const chains: ChainAnchorStatus[] = [];
  for (const c of report.chains) {
    const cp = c.latest_checkpoint;
    const t = cp?.time ? Date.parse(cp.time) : null;
    chains.push({
      chain_id: c.chain_id,
      newest_checkpoint: cp
        ? { tree_size: cp.tree_size, time: cp.time, age_ms: t === null ? null : input.nowMs - t }
        : null,
      anchored_size: anchoredSize.get(c.chain_id) ?? null,
    });
    if (c.damage?.kind === 'checkpoint_forged' && c.damage.checkpoint_size !== null) {
      const named = await nameUntrustedSigner(input, c.chain_id, c.damage.checkpoint_size);
      if (named) {
        const was = c.damage;
        c.damage = { ...was, detail: named };
        c.damages = c.damages.map((d) => (d === was ? c.damage! : d));
      }
    }
    if (c.damage === null && input.strict && c.tree_size > 0 && !anchoredSize.has(c.chain_id)) {
      c.damage = {
        kind: 'checkpoint_missing',
        chain_id: c.chain_id,
        seq: null,
        event_id: null,
        checkpoint_size: null,
        detail:
          anchors === null
            ? 'no anchor file was found, so nothing outside the store vouches for this chain (--strict)'
            : `the anchor file ${anchors.path} holds no checkpoint of this chain (--strict)`,
      };
      c.damages = [c.damage];
      c.ok = false;
      c.root_hash = null;
    }
  }
  report.ok = report.chains.every((c) => c.ok);
  report.first_damage = report.chains.find((c) => c.damage !== null)?.damage ?? null;
  report.damage_count = report.chains.reduce((n, c) => n + c.damages.length, 0);
  if (anchors === null) warnings.push('no anchor file: nothing outside the store vouches for it');
  if (input.keysFrom === 'data-folder keyring')
    warnings.push(
      'verifier keys read from the data folder keyring, which whoever writes the store can rewrite',
    );
  return {
    file: anchors?.path ?? null,
    anchored_checkpoints: anchors?.checkpoints.length ?? 0,
    pinned_keys: anchors?.keys.length ?? 0,
    keys_from: input.keysFrom,
    max_checkpoint_age_ms: input.maxAgeMs,
    chains,
    warnings,
  };
}

/**
 * A stored checkpoint not signed by any trusted key, but by one the data-folder keyring lists:
 * the signing key was replaced in the store's folder without a rotation the trusted keys announced.
 */
async function nameUntrustedSigner(
  input: AnchorCheckInput,
  chainId: string,
  size: number,
): Promise<string | null> {
  const stored = (await input.checkpoints.list(chainId)).filter((s) => s.tree_size === size);
  for (const s of stored) {
    const signer = parseNote(s.note)?.signatures[0];
    if (!signer) continue;
    const id = signer.keyId.toString(16).padStart(8, '0');
    const inRing = openCheckpoint(s.note, input.keyring).ok;
    const source = input.anchors ? `the anchors in ${input.anchors.path}` : 'the trusted keys';
    return `checkpoint at tree size ${size} is signed by key ${signer.name}+${id}, which ${source} never trusted and no trusted key announced${inRing ? ' (it is in the data-folder keyring)' : ''}: the signing key was replaced`;
  }
  return null;
}

/** Lines for people: the anchors read and each chain's newest checkpoint age. */
export function formatAnchorReport(a: AnchorReport): string[] {
  const lines: string[] = [];
  lines.push(
    a.file === null
      ? 'anchors: none'
      : `anchors: ${a.file} — ${a.anchored_checkpoints} checkpoint(s), ${a.pinned_keys} pinned key(s)`,
  );
  for (const c of a.chains) {
    const cp = c.newest_checkpoint;
    const age =
      cp?.age_ms !== null && cp?.age_ms !== undefined ? `${formatDuration(cp.age_ms)} old` : 'age unknown';
    const limit = a.max_checkpoint_age_ms !== null ? ` (max ${formatDuration(a.max_checkpoint_age_ms)})` : '';
    lines.push(
      `  chain ${c.chain_id}: newest checkpoint ${cp ? `at tree size ${cp.tree_size}, ${age}${limit}` : 'none'}; anchored up to ${c.anchored_size ?? 'nothing'}`,
    );
  }
  for (const w of a.warnings) lines.push(`  warning: ${w}`);
  return lines;
}
