/**
 * Verify as `tollgate verify` and the dashboard run it: the chain walk (verify.ts) with the
 * anchored checkpoints as witnesses and the trusted keys taken from outside the store, then the
 * anchor checks (anchor-check.ts). One function, so the CLI and the dashboard cannot disagree.
 */
import { existsSync } from 'node:fs';
import type { EventStore } from '../store/event-store.js';
import { applyAnchorChecks, type AnchorReport } from './anchor-check.js';
import { anchorModeProblems, readAnchorFile, type AnchorContents } from './anchors.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import { followRotations } from './key-rotation.js';
import { parseVerifierKey, type NoteVerifier } from './signed-note.js';
import { verifyChains, type VerifyOptions, type VerifyReport } from './verify.js';

export interface AnchoredVerifyInput {
  store: EventStore;
  checkpoints: CheckpointStore;
  /** The anchor file; a path that does not exist counts as no anchors. */
  anchorFile: string | null;
  /** Keys given by the user (`--keys`): trusted instead of the anchored ones. */
  keys: NoteVerifier[] | null;
  /** The keyring in the data folder: trusted only when there are no anchored keys. */
  keyring: NoteVerifier[];
  nowMs: number;
  maxAgeMs: number | null;
  strict: boolean;
  /** Other options of the chain walk (`from`, `chainId`, progress, extra witness notes). */
  options?: VerifyOptions;
}

/** The verify report (anchor findings included in `ok`) and its anchors section. */
export interface AnchoredVerifyResult {
  report: VerifyReport;
  anchors: AnchorReport;
  /** The keys that were trusted (for an inclusion proof). */
  keys: NoteVerifier[];
}

/** Runs verify against the anchors. */
export async function verifyWithAnchors(input: AnchoredVerifyInput): Promise<AnchoredVerifyResult> {
  const anchors: AnchorContents | null =
    input.anchorFile !== null && existsSync(input.anchorFile) ? readAnchorFile(input.anchorFile) : null;
  const { keys, keysFrom } = await trustedKeys(input, anchors);
  const options: VerifyOptions = { ...input.options };
  if (input.strict) options.strict = true;
  options.witnessNotes = [...(anchors?.checkpoints ?? []), ...(options.witnessNotes ?? [])];
  if (input.maxAgeMs !== null) {
    options.maxCheckpointAgeMs = input.maxAgeMs;
    options.clock = { now: () => input.nowMs, monotonic: () => performance.now() };
  }
  const report = await verifyChains(input.store, input.checkpoints, keys, options);
  const anchorReport = await applyAnchorChecks({
    report,
    checkpoints: input.checkpoints,
    anchors,
    keyring: input.keyring,
    keysFrom,
    nowMs: input.nowMs,
    maxAgeMs: input.maxAgeMs,
    strict: input.strict,
    warnings: input.anchorFile ? anchorModeProblems(input.anchorFile) : [],
  });
  return { report, anchors: anchorReport, keys };
}

/**
 * The keys verify trusts: the given ones, else the keys pinned in the anchor file, else (no
 * anchors) the keyring in the data folder; plus every key a trusted key announced in a rotation.
 */
export async function trustedKeys(
  input: Pick<AnchoredVerifyInput, 'keys' | 'keyring' | 'checkpoints'>,
  anchors: AnchorContents | null,
): Promise<{ keys: NoteVerifier[]; keysFrom: AnchorReport['keys_from'] }> {
  let roots: NoteVerifier[];
  let keysFrom: AnchorReport['keys_from'];
  if (input.keys !== null) {
    roots = input.keys;
    keysFrom = 'flag';
  } else if (anchors !== null && anchors.keys.length > 0) {
    roots = anchors.keys.map((k) => parseVerifierKey(k.verifier_key));
    keysFrom = 'anchors';
  } else {
    roots = input.keyring;
    keysFrom = 'data-folder keyring';
  }
  const notes: string[] = (anchors?.checkpoints ?? []).map((c) => c.note);
  for (const chain of await input.checkpoints.chains())
    notes.push(...(await input.checkpoints.list(chain)).map((c) => c.note));
  return { keys: followRotations(roots, notes), keysFrom };
}
