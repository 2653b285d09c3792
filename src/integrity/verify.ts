/**
 * `tollgate verify`: recomputes every event hash, checks seq continuity and prev links,
 * rebuilds the RFC 6962 tree and compares its root with every signed checkpoint (from the store
 * and from witnesses), and checks the checkpoint signatures against the known verifier keys.
 * The report names the first bad event of each chain and the kind of damage, and then every
 * later damaged event as well (later-damage.ts): one broken event never hides another.
 *
 * A run of missing seqs that chained gap records account for (gap-record.ts) is not damage: it is
 * reported as an accounted gap, its positions count as LOST_LEAF in the tree, and the chain goes on
 * from the event after it. Any other hole is diagnosed as before (deleted, reordered, ...).
 */
import { TollgateError } from '../core/errors.js';
import type { EventStore } from '../store/event-store.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import { DEFAULT_ORIGIN_PREFIX, openCheckpoint, type Checkpoint } from './checkpoint.js';
import type { NoteVerifier } from './signed-note.js';
import { readPruneState } from './prune-state.js';
import { chainIdFromNote, chainIdFromOrigin, loadCheckpoints } from './verify-checkpoints.js';
import { reclassifyMovedEvents, type FailureContext } from './verify-damage.js';
import { verifyChainWithGaps } from './verify-gaps.js';
import { SegmentCheckers } from './verify-pool.js';
import { ContentPruneTally, checkPrunedChain, mergePruned } from './verify-pruned.js';
import type { ChainVerifyReport, VerifyOptions, VerifyReport } from './verify-report.js';
import { sinceStart } from './verify-since.js';

export type {
  AccountedGap,
  ChainVerifyReport,
  Damage,
  DamageKind,
  VerifyOptions,
  VerifyProgress,
  VerifyReport,
  WitnessNote,
} from './verify-report.js';

/**
 * Verifies every chain in `events` (or `options.chainId`) against the checkpoints in
 * `checkpoints` and `options.witnessNotes`, trusting only signatures by `keys`.
 */
export async function verifyChains(
  events: EventStore,
  checkpoints: CheckpointStore,
  keys: readonly NoteVerifier[],
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const started = performance.now();
  const prefix = options.originPrefix ?? DEFAULT_ORIGIN_PREFIX;
  const heads = await events.chains();
  const totals = new Map(heads.map((h) => [h.chain_id, h.count]));
  const headSeqs = new Map(heads.map((h) => [h.chain_id, h.seq]));
  const witnessByChain = new Map<string, string[]>();
  for (const w of options.witnessNotes ?? []) {
    const id = w.chain_id ?? chainIdFromNote(w.note, prefix);
    if (id === null) continue;
    const list = witnessByChain.get(id) ?? [];
    list.push(w.note);
    witnessByChain.set(id, list);
  }
  let from: { chainId: string; checkpoint: Checkpoint } | null = null;
  if (options.from !== undefined) {
    const opened = openCheckpoint(options.from, keys);
    const id = opened.checkpoint ? chainIdFromOrigin(opened.checkpoint.origin, prefix) : null;
    if (!opened.ok || id === null)
      throw new TollgateError('TG_ERR_INTEGRITY_NOTE_INVALID', {
        reason: `--from checkpoint ${opened.ok ? 'origin' : opened.reason}`,
      });
    from = { chainId: id, checkpoint: opened.checkpoint };
  }
  const ids = new Set<string>([
    ...heads.map((h) => h.chain_id),
    ...(await checkpoints.chains()),
    ...witnessByChain.keys(),
  ]);
  const chainIds = [...ids].filter((id) => options.chainId === undefined || id === options.chainId).sort();

  const pruneState = await readPruneState(events, keys);
  const reports: ChainVerifyReport[] = [];
  const failures = new Map<string, FailureContext>();
  const segments = new SegmentCheckers(events, options);
  try {
    for (const chainId of chainIds) {
      const cps = await loadCheckpoints(
        chainId,
        checkpoints,
        witnessByChain.get(chainId) ?? [],
        keys,
        prefix,
      );
      const since = options.since ? await sinceStart(events, chainId, cps, options.since.get(chainId)) : null;
      const pruned = await checkPrunedChain(
        events,
        checkpoints,
        chainId,
        pruneState.events.get(chainId) ?? [],
        keys,
        prefix,
        options.pageSize ?? 5000,
      );
      const { report, failure } = await verifyChainWithGaps({
        events,
        chainId,
        cps,
        options,
        total: totals.get(chainId) ?? null,
        // A pruned chain is walked from its prune boundary; --from applies to chains never pruned.
        trusted: pruned.start === null && from?.chainId === chainId ? from.checkpoint : null,
        start: pruned.start,
        contentRecords: new ContentPruneTally(chainId, pruneState.content.get(chainId) ?? []),
        source: { segments, headSeq: headSeqs.get(chainId) ?? null, since: since?.ok ? since : null },
      });
      mergePruned(report, pruned.damages, pruned.ranges, pruneState);
      if (from?.chainId === chainId && pruned.start !== null)
        report.from_unused = `the chain is pruned under signed records up to seq ${pruned.start.size}: verified from that boundary (the --from checkpoint at tree size ${from.checkpoint.treeSize} was not used)`;
      if (since?.ok) report.since_checkpoint = since.at;
      else if (since) report.since_checkpoint_unusable = since.why;
      reports.push(report);
      if (failure) failures.set(chainId, failure);
    }
  } finally {
    await segments.close();
  }
  reclassifyMovedEvents(reports, failures);

  const first = reports.find((r) => r.damage !== null)?.damage ?? null;
  const gaps = reports.flatMap((r) => r.accounted_gaps);
  return {
    ok: reports.every((r) => r.ok),
    chains: reports,
    events_checked: reports.reduce((n, r) => n + r.events_checked, 0),
    checkpoints_checked: reports.reduce((n, r) => n + r.checkpoints_checked, 0),
    first_damage: first,
    damage_count: reports.reduce((n, r) => n + r.damages.length, 0),
    accounted_gaps: gaps.length,
    events_not_stored: gaps.reduce((n, g) => n + g.count, 0),
    events_pruned: reports.reduce((n, r) => n + r.pruned.reduce((m, p) => m + p.deleted, 0), 0),
    strict: options.strict === true,
    duration_ms: Math.round(performance.now() - started),
    events_hashed_in_workers: segments.inWorkers,
  };
}
