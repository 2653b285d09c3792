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
import type { AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { TollgateError } from '../core/errors.js';
import type { EventStore } from '../store/event-store.js';
import { eventHash } from './canonical-json.js';
import { DEFAULT_ORIGIN_PREFIX, checkpointOrigin, openCheckpoint, type Checkpoint } from './checkpoint.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import {
  LOST_LEAF,
  isGapRecord,
  matchHoles,
  parseGapRecord,
  type ChainHole,
  type GapRecord,
  type HoleMatching,
} from './gap-record.js';
import { GENESIS_PREV_HASH } from './hash-chain.js';
import { LaterDamageScan } from './later-damage.js';
import { CompactRange, EventLeafHasher } from './merkle.js';
import type { NoteVerifier } from './signed-note.js';
import { readPruneState, type PruneState } from './prune-state.js';
import { ContentPruneTally, checkPrunedChain, type PrunedRange, type PrunedStart } from './verify-pruned.js';
import { SEGMENT_SIZE, walkSegments } from './verify-fast.js';
import { startAfterCheckpoint } from './verify-since.js';
import { defaultVerifyWorkers, workerSegmentChecker, type SegmentChecker } from './verify-pool.js';

/** What went wrong, from the point of view of the chain. */
export type DamageKind =
  /** an event's content, hash, seq or link was changed */
  | 'modified'
  /** an event is missing from the middle of the chain */
  | 'deleted'
  /** an extra event that the chain never had */
  | 'inserted'
  /** events are intact but in the wrong positions (seq values exchanged) */
  | 'reordered'
  /** the chain ends before a signed checkpoint says it should */
  | 'truncated'
  /** a checkpoint whose signature does not verify, is by an unknown key, or names another log */
  | 'checkpoint_forged'
  /** a checkpoint a witness holds is gone from the store, or checkpoints stopped coming */
  | 'checkpoint_missing';

export interface Damage {
  kind: DamageKind;
  chain_id: string;
  /**
   * The chain position (expected seq) where verification first fails: the changed, missing,
   * extra or misplaced event; for checkpoint damage, null.
   */
  seq: number | null;
  /** Id of the stored event found at that position (for `deleted`, the event after the gap); null if none. */
  event_id: string | null;
  /** For checkpoint damage and root mismatches: the tree size of the checkpoint concerned. */
  checkpoint_size: number | null;
  /** One line for people; ids and sizes only, never content. */
  detail: string;
}

/**
 * Events the writer could not store, named by a chained gap record whose range and hash check out
 * (the record's fields; `crash`: `count` is an upper bound and `at` a lower bound on when the lost
 * events were answered, see GapRange).
 */
export type AccountedGap = GapRecord;

export interface ChainVerifyReport {
  chain_id: string;
  /** False on damage, and with `strict` also when the chain has accounted gaps. */
  ok: boolean;
  /** Events whose hash was recomputed (after `--from`, only those after the trusted checkpoint). */
  events_checked: number;
  /** Events in the verified chain (tree size reached). */
  tree_size: number;
  /** Base64 RFC 6962 root at `tree_size`, when the chain verified up to there. */
  root_hash: string | null;
  checkpoints_checked: number;
  /** Newest checkpoint that verified, to keep as the `--from` point of a later run. */
  latest_checkpoint: { tree_size: number; time: string | null; note: string } | null;
  damage: Damage | null;
  /**
   * Every damage found in the chain, in chain order: `damage` first, then each later damaged
   * event (and each bad checkpoint). Empty when the chain is intact.
   */
  damages: Damage[];
  /** Holes that gap records account for, in seq order (their seqs are in `tree_size`, not in `events_checked`). */
  accounted_gaps: AccountedGap[];
  /** Ranges retention pruned under signed prune records (verify-pruned.ts); the walk starts after them. */
  pruned: PrunedRange[];
  /**
   * `since`: the verified checkpoint this run started after. Events up to its tree size were not
   * read again (a change to them is out of scope of this run); `events_checked` counts the others.
   */
  since_checkpoint?: { tree_size: number; time: string | null };
  /** `since`: why this chain was verified whole instead (no recorded checkpoint, or it did not check out). */
  since_checkpoint_unusable?: string;
}

export interface VerifyReport {
  ok: boolean;
  chains: ChainVerifyReport[];
  events_checked: number;
  checkpoints_checked: number;
  /** The damage of the first damaged chain (chains in id order), or null. */
  first_damage: Damage | null;
  /** How many damages all chains have (the length of every chain's `damages`, summed). */
  damage_count: number;
  /** Accounted gaps in all chains, and the events they say were not stored. */
  accounted_gaps: number;
  events_not_stored: number;
  /** Events deleted by retention under signed prune records, in all chains. */
  events_pruned: number;
  /** Whether accounted gaps counted as a failure (`--strict`). */
  strict: boolean;
  duration_ms: number;
  /** Events of intact segments read and hashed in worker threads (the rest on the calling thread). */
  events_hashed_in_workers: number;
}

export interface VerifyProgress {
  chain_id: string;
  events: number;
  /** Events the store says the chain has, when known. */
  total: number | null;
}

/** A checkpoint note held by a witness (see witness.ts `readWitnessFile`). */
export interface WitnessNote {
  chain_id?: string;
  note: string;
}

export interface VerifyOptions {
  /** A trusted checkpoint note: its chain is verified from there on (see docs/integrity.md). */
  from?: string;
  /** Only this chain. */
  chainId?: string;
  /** Checkpoints from witnesses: they must be in the store, and they bound the chain's length. */
  witnessNotes?: readonly WitnessNote[];
  /** Checkpoint origin prefix (default `tollgate`). */
  originPrefix?: string;
  /** Called every `progressEvery` events and at the end of each chain. */
  onProgress?: (progress: VerifyProgress) => void;
  progressEvery?: number;
  /**
   * With a clock: a chain whose newest valid checkpoint is older than this is reported as
   * `checkpoint_missing` (heartbeats stopped, or recent checkpoints were deleted).
   */
  maxCheckpointAgeMs?: number;
  clock?: Clock;
  /** Rows read per page from the store. */
  pageSize?: number;
  /** Accounted gaps make the chain (and the report) not ok, as damage does (`--strict`). */
  strict?: boolean;
  /**
   * Worker threads that read and hash chain segments of a SQLite store file (default: one per
   * core); 0: none. Other stores, and chains with fewer than `workerMinEvents` events to check,
   * are walked on the calling thread.
   */
  workers?: number;
  /** Default 50,000. */
  workerMinEvents?: number;
  /** Events per segment (default 16,384). */
  segmentSize?: number;
  /**
   * Only the single sequential walk (the verifier before segments and workers existed): for
   * comparisons. By default an intact chain is confirmed segment by segment, in parallel, and a
   * chain with any irregularity is verified by the sequential walk, which names every damage.
   */
  sequentialOnly?: boolean;
  /**
   * Incremental verify (`--since-checkpoint`): per chain id, the note of a checkpoint an earlier run
   * verified (verified-checkpoints.ts). Such a chain is verified only after it (verify-since.ts);
   * other chains, and a chain whose checkpoint does not check out, are verified whole.
   */
  since?: ReadonlyMap<string, string>;
}

/** The worker pool that checks chain segments of a SQLite file, started when a chain needs it. */
class SegmentCheckers {
  private pool: SegmentChecker | null = null;
  private poolFailed = false;
  /** Events the worker pool confirmed. */
  inWorkers = 0;

  constructor(
    private readonly store: EventStore,
    private readonly options: VerifyOptions,
  ) {}

  /** The pool for a run of `events` events, or null: walk them sequentially. */
  for(events: number): SegmentChecker | null {
    const workers = this.options.workers ?? defaultVerifyWorkers();
    const file = this.store.sqliteFile?.() ?? null;
    if (workers <= 0 || file === null || this.poolFailed || events < (this.options.workerMinEvents ?? 50_000))
      return null;
    this.pool ??= workerSegmentChecker(file, workers);
    return this.pool;
  }

  /** A worker could not start or failed: the rest of the run reads inline. */
  failed(checker: SegmentChecker): void {
    if (checker === this.pool) this.poolFailed = true;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}

interface ValidCheckpoint {
  checkpoint: Checkpoint;
  note: string;
  fromWitness: boolean;
}

interface ChainCheckpoints {
  /** Valid checkpoints by tree size, ascending (deduplicated on size + root). */
  valid: ValidCheckpoint[];
  /** Damage found in the checkpoints themselves, positioned by tree size. */
  problems: { size: number; damage: Damage }[];
  checked: number;
  /** The frontier stored with each stored note (untrusted until folded to its signed root). */
  frontiers: Map<string, string[] | null>;
}

/** Internal: the row at which a chain first failed, for the cross-chain pass. */
interface FailureContext {
  expectedSeq: number;
  prevHash: string;
  row: AuditEvent | null;
}

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
      const { report, failure } = await verifyChainWithGaps(
        events,
        chainId,
        cps,
        options,
        totals.get(chainId) ?? null,
        // A pruned chain is walked from its prune boundary; --from applies to chains never pruned.
        pruned.start === null && from?.chainId === chainId ? from.checkpoint : null,
        pruned.start,
        new ContentPruneTally(chainId, pruneState.content.get(chainId) ?? []),
        { segments, headSeq: headSeqs.get(chainId) ?? null, since: since?.ok ? since : null },
      );
      mergePruned(report, pruned.damages, pruned.ranges, pruneState);
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

/** Adds what checking the pruned part found (verify-pruned.ts) to a chain's report. */
function mergePruned(
  report: ChainVerifyReport,
  damages: readonly Damage[],
  ranges: PrunedRange[],
  state: PruneState,
): void {
  report.pruned = ranges;
  const all = [...damages, ...report.damages].sort((a, b) => damagePosition(a) - damagePosition(b));
  const first = all[0];
  if (first?.kind === 'deleted' && state.rejected.length > 0) {
    // A deletion someone may have tried to pass off as a prune: say which records were refused.
    const refused = state.rejected
      .slice(0, 3)
      .map((r) => `${r.chain_id ?? '?'} seq ${r.seq ?? '?'}: ${r.why}`)
      .join('; ');
    all[0] = { ...first, detail: `${first.detail} (prune record(s) not accepted: ${refused})` };
  } else if (first?.kind === 'deleted' && ranges.length > 0 && !first.detail.includes('prune record')) {
    all[0] = {
      ...first,
      detail: `${first.detail} (the prune records of this chain cover events 1..${ranges[ranges.length - 1]!.last_seq} only)`,
    };
  }
  if (all.length === 0) return;
  report.damage = all[0]!;
  report.damages = all;
  report.ok = false;
  report.root_hash = null;
}

/** Damages in chain order, without repeats of `first` or of each other (same kind, place and event). */
function inChainOrder(list: readonly Damage[], first: Damage): Damage[] {
  const seen = new Set<string>([damageKey(first)]);
  const named = new Set<string>(first.event_id !== null ? [first.event_id] : []);
  const out: Damage[] = [];
  for (const d of [...list].sort((a, b) => damagePosition(a) - damagePosition(b))) {
    const key = damageKey(d);
    // The first damage may name an event found further on (a moved event): not twice.
    if (seen.has(key) || (d.event_id !== null && named.has(d.event_id) && d.kind === 'modified')) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

function damageKey(d: Damage): string {
  return `${d.kind}:${d.seq}:${d.event_id}:${d.checkpoint_size}`;
}

/** Position of a damage in chain order (event damage just before its seq, checkpoint damage at its size). */
function damagePosition(d: Damage): number {
  if (d.seq !== null && d.kind !== 'checkpoint_forged' && d.kind !== 'checkpoint_missing') return d.seq - 0.5;
  return d.checkpoint_size ?? Number.MAX_SAFE_INTEGER;
}

/**
 * Verifies one chain, accepting holes that gap records account for. The first pass accepts every
 * hole whose next event is intact (the records come after the holes they name); if some hole is
 * not accounted, a second pass accepts only the accounted ones, so the first other hole is
 * diagnosed exactly as without gap records.
 */
async function verifyChainWithGaps(
  events: EventStore,
  chainId: string,
  cps: ChainCheckpoints,
  options: VerifyOptions,
  total: number | null,
  trusted: Checkpoint | null,
  start: PrunedStart | null,
  content: ContentPruneTally,
  source: ChainSource,
): Promise<{ report: ChainVerifyReport; failure: FailureContext | null }> {
  let pass = await verifyOneChain(
    events,
    chainId,
    cps,
    options,
    total,
    trusted,
    () => true,
    start,
    content,
    source,
  );
  let matching = matchHoles(pass.holes, [...pass.records, ...pass.lateRecords]);
  const firstPass = matchHoles([...pass.holes, ...pass.suspectHoles], [...pass.records, ...pass.lateRecords]);
  if (matching.unaccounted.length > 0) {
    const accepted = new Set(matching.accounted.map((a) => a.hole.first_seq));
    pass = await verifyOneChain(
      events,
      chainId,
      cps,
      options,
      total,
      trusted,
      (first) => accepted.has(first),
      start,
      content,
      source,
    );
    matching = matchHoles(pass.holes, [...pass.records, ...pass.lateRecords]);
  }
  const { report } = pass;
  let { failure } = pass;
  // A hole diagnosed as a deletion: say what gap records there are for it, and where they stop.
  const d = report.damage;
  const later = report.damages.filter((x) => x !== d);
  const row = failure?.row ?? null;
  if (
    d?.kind === 'deleted' &&
    row !== null &&
    isGapRecord(row) &&
    typeof row.seq === 'number' &&
    row.seq > d.seq! &&
    (row.hash === null || eventHash(row) !== row.hash)
  ) {
    // The hole is followed by its gap record, changed: name the record rather than a deletion.
    report.damage = {
      kind: 'modified',
      chain_id: chainId,
      seq: row.seq,
      event_id: row.id ?? null,
      checkpoint_size: null,
      detail: `gap record ${row.seq} (after missing events ${d.seq}..${row.seq - 1}): recomputed hash differs from the stored hash`,
    };
  } else if (d?.kind === 'deleted') {
    const u = firstPass.unaccounted.find((x) => x.hole.first_seq === d.seq);
    if (u) {
      const seq = u.covered_to !== null ? u.covered_to + 1 : d.seq;
      const range = seq === u.hole.last_seq ? `event ${seq} is` : `events ${seq}..${u.hole.last_seq} are`;
      report.damage = { ...d, seq, detail: `${range} missing: ${u.why}` };
    }
  }
  const orphan = orphanDamage(chainId, matching, pass.records);
  if (orphan && (report.damage === null || damagePosition(orphan) < damagePosition(report.damage))) {
    if (report.damage) later.push(report.damage);
    report.damage = orphan;
    failure = null;
  } else if (orphan) later.push(orphan);
  report.damages = report.damage ? [report.damage, ...inChainOrder(later, report.damage)] : [];
  report.accounted_gaps = matching.accounted.flatMap((a) =>
    a.records.map((r) => ({ ...r, chain_id: chainId })),
  );
  report.ok = report.damage === null && !(options.strict === true && report.accounted_gaps.length > 0);
  if (report.damage !== null) report.root_hash = null;
  return { report, failure };
}

/** A verified gap record that names events which are not missing: the record (or the chain) was forged. */
function orphanDamage(
  chainId: string,
  matching: HoleMatching,
  trustedRecords: readonly GapRecord[],
): Damage | null {
  const trusted = new Set(trustedRecords.map((r) => r.record_event_id));
  const o = matching.orphans
    .filter((r) => trusted.has(r.record_event_id))
    .sort((a, b) => a.record_seq - b.record_seq)[0];
  if (!o) return null;
  return {
    kind: 'modified',
    chain_id: chainId,
    seq: o.record_seq,
    event_id: o.record_event_id,
    checkpoint_size: null,
    detail: `the gap record at seq ${o.record_seq} names events ${o.first_seq}..${o.last_seq} as not stored, but the chain does not miss them`,
  };
}

function chainIdFromOrigin(origin: string, prefix: string): string | null {
  return origin.startsWith(prefix + '/') && origin.length > prefix.length + 1
    ? origin.slice(prefix.length + 1)
    : null;
}

function chainIdFromNote(note: string, prefix: string): string | null {
  const nl = note.indexOf('\n');
  return nl > 0 ? chainIdFromOrigin(note.slice(0, nl), prefix) : null;
}

async function loadCheckpoints(
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

/** How a chain may be read besides the sequential walk: the worker pool, its head seq, the incremental start. */
interface ChainSource {
  segments: SegmentCheckers;
  headSeq: number | null;
  /** Incremental: the verified checkpoint to start after. */
  since: SinceChain | null;
}

interface SinceChain {
  ok: true;
  checkpoint: ValidCheckpoint;
  range: CompactRange;
  prev: string;
  at: { tree_size: number; time: string | null };
}

/** The start after a chain's verified checkpoint, or why there is none (the chain is then verified whole). */
async function sinceStart(
  events: EventStore,
  chainId: string,
  cps: ChainCheckpoints,
  note: string | undefined,
): Promise<SinceChain | { ok: false; why: string }> {
  if (note === undefined) return { ok: false, why: 'no verified checkpoint recorded for this chain' };
  const checkpoint = cps.valid.find((v) => v.note === note && !v.fromWitness) ?? null;
  if (checkpoint === null)
    return {
      ok: false,
      why: 'the recorded checkpoint is not among the valid checkpoints in the store (removed, or its key is not trusted)',
    };
  const start = await startAfterCheckpoint(
    events,
    chainId,
    checkpoint.checkpoint,
    cps.frontiers.get(note) ?? null,
  );
  if (!start.ok) return start;
  const cp = checkpoint.checkpoint;
  return {
    ok: true,
    checkpoint,
    range: start.range,
    prev: start.prev,
    at: { tree_size: cp.treeSize, time: cp.timeMs === null ? null : new Date(cp.timeMs).toISOString() },
  };
}

async function verifyOneChain(
  events: EventStore,
  chainId: string,
  cps: ChainCheckpoints,
  options: VerifyOptions,
  total: number | null,
  trusted: Checkpoint | null,
  acceptHole: (firstSeq: number) => boolean,
  start: PrunedStart | null,
  contentRecords: ContentPruneTally,
  source: ChainSource,
): Promise<ChainPass> {
  // A fresh tally per pass: each pass walks the chain again.
  const content = contentRecords.fresh();
  /** The stored hash is the event's own, or its content was pruned under a signed record. */
  const selfValid = (e: AuditEvent): boolean =>
    e.hash !== null && (eventHash(e) === e.hash || content.covers(e));
  const leafHasher = new EventLeafHasher();
  const holes: ChainHole[] = [];
  /** Gap records of the verified part of the chain. */
  const records: GapRecord[] = [];
  /** Gap records after the first damage (intact themselves): only to name the damage better. */
  const lateRecords: GapRecord[] = [];
  /** Holes not accepted because a signed checkpoint covers them (only to name the damage better). */
  const suspectHoles: ChainHole[] = [];
  let range = new CompactRange();
  let expected = 1;
  let prev = GENESIS_PREV_HASH;
  let checked = 0;
  let eventDamage: Damage | null = null;
  let failure: FailureContext | null = null;
  const progressEvery = options.progressEvery ?? 100_000;
  const pageSize = options.pageSize ?? 5000;

  // Checkpoints are compared when the tree reaches their size.
  const valid = cps.valid;
  let next = 0;
  let lastMatched: ValidCheckpoint | null = null;
  /** The newest matched checkpoint of a smaller size than `lastMatched`. */
  let matchedBefore: ValidCheckpoint | null = null;
  let rootDamage: Damage | null = null;
  const compareAt = (size: number): void => {
    if (rootDamage) return;
    while (next < valid.length && valid[next]!.checkpoint.treeSize <= size) {
      const cp = valid[next]!;
      if (cp.checkpoint.treeSize === size) {
        if (range.root().equals(cp.checkpoint.rootHash)) {
          if (lastMatched && lastMatched.checkpoint.treeSize < size) matchedBefore = lastMatched;
          lastMatched = cp;
        } else {
          // The last root that matched below this size (another checkpoint of this same size may
          // have matched: a store re-signed after a rewrite, against an anchored one).
          const below =
            lastMatched && lastMatched.checkpoint.treeSize < size ? lastMatched : (matchedBefore ?? null);
          const after = below ? below.checkpoint.treeSize : (trusted?.treeSize ?? start?.size ?? 0);
          rootDamage = {
            kind: 'modified',
            chain_id: chainId,
            seq: after + 1,
            event_id: null,
            checkpoint_size: size,
            detail: `events ${after + 1}..${size} were rewritten consistently, but the tree root differs from the signed ${cp.fromWitness ? 'witness ' : ''}checkpoint at tree size ${size}`,
          };
          return;
        }
      }
      next++;
    }
  };
  compareAt(0);
  if (start) {
    // Pruned up to start.size: go on from the signed frontier there (verify-pruned.ts checked it).
    range = start.range.clone();
    expected = start.size + 1;
    prev = start.prevHash;
    while (next < valid.length && valid[next]!.checkpoint.treeSize <= start.size) {
      const cp = valid[next]!;
      if (cp.checkpoint.treeSize === start.size && range.root().equals(cp.checkpoint.rootHash))
        lastMatched = cp;
      next++;
    }
  }
  /** Lost positions up to `upTo`, stopping at each checkpoint size on the way to compare its root. */
  const passLost = (upTo: number): void => {
    while (range.size < upTo && !rootDamage) {
      const cpSize = next < valid.length ? valid[next]!.checkpoint.treeSize : upTo;
      range.appendRepeated(LOST_LEAF, Math.min(upTo, cpSize) - range.size);
      if (next < valid.length && valid[next]!.checkpoint.treeSize === range.size) compareAt(range.size);
    }
  };

  if (trusted) {
    // --from: the prefix is checked against the trusted root from the stored hashes alone.
    const prefix = new CompactRange();
    let lastHash: string | null = GENESIS_PREV_HASH;
    let okPrefix = true;
    const prefixHoles: ChainHole[] = [];
    const prefixRecords: GapRecord[] = [];
    for await (const e of events.iterateChain(chainId, 1, pageSize)) {
      if (prefix.size === trusted.treeSize) break;
      if (
        typeof e.seq !== 'number' ||
        e.seq < prefix.size + 1 ||
        typeof e.hash !== 'string' ||
        !/^[0-9a-f]{64}$/.test(e.hash)
      ) {
        okPrefix = false;
        break;
      }
      if (e.seq > prefix.size + 1) {
        // Lost positions inside the trusted prefix: the signed root says whether they were.
        if (e.seq - 1 > trusted.treeSize || !acceptHole(prefix.size + 1)) {
          okPrefix = false;
          break;
        }
        prefixHoles.push({ first_seq: prefix.size + 1, last_seq: e.seq - 1, next_prev_hash: e.prev_hash });
        prefix.appendRepeated(LOST_LEAF, e.seq - 1 - prefix.size);
        lastHash = e.prev_hash;
        if (prefix.size === trusted.treeSize) break;
      }
      const record = parseGapRecord(e);
      if (record) prefixRecords.push(record);
      prefix.append(leafHasher.hash(e.hash));
      lastHash = e.hash;
    }
    if (
      okPrefix &&
      lastHash !== null &&
      prefix.size === trusted.treeSize &&
      prefix.root().equals(trusted.rootHash)
    ) {
      range = prefix;
      expected = trusted.treeSize + 1;
      prev = lastHash;
      holes.push(...prefixHoles);
      records.push(...prefixRecords);
      while (next < valid.length && valid[next]!.checkpoint.treeSize <= trusted.treeSize) next++;
    }
    // Otherwise the prefix changed since the trusted checkpoint: verify everything to find where.
  }

  let walkFrom = start ? start.size + 1 : 1;
  if (source.since && !trusted && source.since.checkpoint.checkpoint.treeSize >= (start?.size ?? 0)) {
    // Incremental: the tree and the last hash at the verified checkpoint, tied to its signature.
    const since = source.since;
    range = since.range.clone();
    expected = since.checkpoint.checkpoint.treeSize + 1;
    prev = since.prev;
    lastMatched = since.checkpoint;
    while (next < valid.length && valid[next]!.checkpoint.treeSize <= range.size) next++;
    walkFrom = expected;
    if (total !== null && source.headSeq !== null) total = Math.max(0, source.headSeq - range.size);
  }

  const checker =
    options.sequentialOnly !== true && source.headSeq !== null && source.headSeq >= expected
      ? source.segments.for(source.headSeq - expected + 1)
      : null;
  if (checker && source.headSeq !== null) {
    // The fast path: confirm the chain intact segment by segment, hashed in worker threads. At the
    // first irregular segment or root mismatch, start over from here with the sequential walk
    // (which then reads again what the workers confirmed: damage costs a second pass).
    const saved = { range: range.clone(), next, lastMatched, matchedBefore, records: records.length };
    let nextProgress = progressEvery;
    let lastHash = prev;
    let walked = 0;
    let ok: boolean;
    try {
      ok = await walkSegments({
        checker,
        chainId,
        from: expected,
        to: source.headSeq,
        prev,
        segmentSize: options.segmentSize ?? SEGMENT_SIZE,
        onSegment: (r) => {
          const n = r.last - r.first + 1;
          for (let i = 0; i < n; i++) {
            range.append(Buffer.from(r.leaves.buffer, r.leaves.byteOffset + i * 32, 32));
            if (next < valid.length && valid[next]!.checkpoint.treeSize === range.size) compareAt(range.size);
            if (rootDamage) return false;
          }
          records.push(...r.records);
          walked += n;
          lastHash = r.lastHash!;
          while (options.onProgress && nextProgress <= walked) {
            options.onProgress({ chain_id: chainId, events: nextProgress, total });
            nextProgress += progressEvery;
          }
          return true;
        },
      });
    } catch {
      // A worker failed (or could not start): the sequential walk reads the chain instead.
      source.segments.failed(checker);
      ok = false;
    }
    if (ok) {
      source.segments.inWorkers += walked;
      checked = walked;
      expected = source.headSeq + 1;
      prev = lastHash;
    } else {
      range = saved.range;
      next = saved.next;
      lastMatched = saved.lastMatched;
      matchedBefore = saved.matchedBefore;
      rootDamage = null;
      records.length = saved.records;
    }
  }

  let diagnosing: Diagnosis | null = null;
  /** After the first damage: every later row is still checked (later-damage.ts). */
  let later: LaterDamageScan | null = null;
  let lastId: string | null = null;
  let lastPrev: string | null = null;
  for await (const e of events.iterateChain(chainId, expected, pageSize)) {
    if (later) {
      const valid = selfValid(e);
      later.next(e, valid);
      if (valid && isGapRecord(e)) {
        const late = parseGapRecord(e);
        if (late) lateRecords.push(late);
      }
      if (diagnosing) {
        if (diagnosing.candidate === null && e.prev_hash === prev) diagnosing.candidate = e;
        if (
          !diagnosing.rowHasSuccessor &&
          diagnosing.row.hash !== null &&
          e.prev_hash === diagnosing.row.hash
        )
          diagnosing.rowHasSuccessor = true;
      }
      continue;
    }
    checked++;
    // A hole followed by an intact event: accepted for now, kept only if a gap record accounts for it.
    let hole =
      typeof e.seq === 'number' &&
      e.seq > expected &&
      e.hash !== null &&
      typeof e.prev_hash === 'string' &&
      acceptHole(expected) &&
      selfValid(e);
    if (hole) {
      const found: ChainHole = { first_seq: expected, last_seq: e.seq! - 1, next_prev_hash: e.prev_hash };
      const saved: {
        range: CompactRange;
        next: number;
        lastMatched: ValidCheckpoint | null;
        matchedBefore: ValidCheckpoint | null;
      } = {
        range: range.clone(),
        next,
        lastMatched,
        matchedBefore,
      };
      passLost(found.last_seq);
      if (rootDamage) {
        // A signed checkpoint was made over a real event in this range: no writer gap, a deletion.
        range = saved.range;
        next = saved.next;
        lastMatched = saved.lastMatched;
        matchedBefore = saved.matchedBefore;
        rootDamage = null;
        suspectHoles.push(found);
        hole = false;
      } else {
        holes.push(found);
        expected = e.seq!;
        prev = e.prev_hash!;
      }
    }
    if (e.seq === expected && e.prev_hash === prev && e.hash !== null && (hole || selfValid(e))) {
      if (eventHash(e) !== e.hash) content.add(e);
      const record = parseGapRecord(e);
      if (record) records.push(record);
      range.append(leafHasher.hash(e.hash));
      lastId = e.id;
      lastPrev = e.prev_hash;
      prev = e.hash;
      expected++;
      if (next < valid.length && valid[next]!.checkpoint.treeSize === range.size) compareAt(range.size);
      if (rootDamage) {
        // Events up to here were rewritten consistently; keep checking the rows after them.
        later = new LaterDamageScan(chainId, e, false);
        continue;
      }
      if (options.onProgress && checked % progressEvery === 0)
        options.onProgress({ chain_id: chainId, events: checked, total });
      continue;
    }
    diagnosing = {
      row: e,
      candidate: e.prev_hash === prev ? e : null,
      rowHasSuccessor: false,
      lastId,
      lastPrev,
    };
    later = new LaterDamageScan(chainId, e, true);
    const late = e.hash !== null && isGapRecord(e) && eventHash(e) === e.hash ? parseGapRecord(e) : null;
    if (late) lateRecords.push(late);
  }
  if (diagnosing) {
    eventDamage = classify(chainId, diagnosing, expected);
    failure = { expectedSeq: expected, prevHash: prev, row: diagnosing.row };
  } else if (!rootDamage) {
    const longest = valid.length > 0 ? valid[valid.length - 1]! : null;
    if (longest && longest.checkpoint.treeSize > range.size) {
      eventDamage = {
        kind: 'truncated',
        chain_id: chainId,
        seq: range.size + 1,
        event_id: null,
        checkpoint_size: longest.checkpoint.treeSize,
        detail: `the chain ends at seq ${range.size} but a signed ${longest.fromWitness ? 'witness ' : ''}checkpoint covers ${longest.checkpoint.treeSize} events`,
      };
      failure = { expectedSeq: expected, prevHash: prev, row: null };
    }
  }
  options.onProgress?.({ chain_id: chainId, events: checked, total });

  // The first damage in chain order: event damage at seq s comes before checkpoint damage at
  // tree size >= s; checkpoint damage at a smaller size comes first.
  const candidates: { pos: number; damage: Damage }[] = [];
  if (eventDamage) candidates.push({ pos: eventDamage.seq! - 0.5, damage: eventDamage });
  if (rootDamage) {
    const rd: Damage = rootDamage;
    candidates.push({ pos: rd.checkpoint_size!, damage: rd });
  }
  for (const p of cps.problems) candidates.push({ pos: p.size, damage: p.damage });
  for (const d of content.damages(walkFrom, expected - 1)) candidates.push({ pos: d.seq! - 0.5, damage: d });
  const stale = staleness(
    chainId,
    lastMatched ?? (valid.length > 0 ? valid[valid.length - 1]! : null),
    options,
    range.size,
  );
  if (stale) candidates.push({ pos: Number.MAX_SAFE_INTEGER, damage: stale });
  candidates.sort((a, b) => a.pos - b.pos);
  const damage = candidates[0]?.damage ?? null;
  const laterDamages = later ? later.damages([...records, ...lateRecords]) : [];
  const damages = damage
    ? [damage, ...inChainOrder([...candidates.slice(1).map((c) => c.damage), ...laterDamages], damage)]
    : [];

  const latest: ValidCheckpoint | null = lastMatched;
  const intactUpTo = damage === null;
  return {
    holes,
    suspectHoles,
    records,
    lateRecords,
    report: {
      chain_id: chainId,
      ok: intactUpTo,
      events_checked: checked - (diagnosing ? 1 : 0),
      tree_size: range.size,
      root_hash: intactUpTo ? range.root().toString('base64') : null,
      checkpoints_checked: cps.checked,
      latest_checkpoint: latest
        ? {
            tree_size: latest.checkpoint.treeSize,
            time: latest.checkpoint.timeMs === null ? null : new Date(latest.checkpoint.timeMs).toISOString(),
            note: latest.note,
          }
        : null,
      damage,
      damages,
      accounted_gaps: [],
      pruned: [],
    },
    failure: damage === eventDamage ? failure : null,
  };
}

/** One pass over a chain: its report before gap matching, and the holes and gap records seen. */
interface ChainPass {
  report: ChainVerifyReport;
  failure: FailureContext | null;
  holes: ChainHole[];
  suspectHoles: ChainHole[];
  records: GapRecord[];
  lateRecords: GapRecord[];
}

function staleness(
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

/** What the verifier saw from the first failing row to the end of the chain. */
interface Diagnosis {
  /** The first row that failed. */
  row: AuditEvent;
  /** The first row from there on that links to the last good hash (the event that belongs here). */
  candidate: AuditEvent | null;
  /** Whether a later row links to the failing row's hash. */
  rowHasSuccessor: boolean;
  /** Id and prev_hash of the last event accepted before the failure. */
  lastId: string | null;
  lastPrev: string | null;
}

/** Names the damage at the first failing row (expected seq `e`, last good hash `ph`). */
function classify(chainId: string, d: Diagnosis, e: number): Damage {
  const { row: r, candidate: c } = d;
  const at = (kind: DamageKind, detail: string): Damage => ({
    kind,
    chain_id: chainId,
    seq: e,
    event_id: r.id ?? null,
    checkpoint_size: null,
    detail,
  });
  const rSeq = typeof r.seq === 'number' ? r.seq : null;
  if (
    rSeq === e - 1 &&
    c === null &&
    d.rowHasSuccessor &&
    r.prev_hash === d.lastPrev &&
    r.hash !== null &&
    eventHash(r) === r.hash
  ) {
    // Two valid events claim seq e-1 with the same predecessor; the chain continues from this
    // one, so the one accepted before it was the extra.
    return {
      kind: 'inserted',
      chain_id: chainId,
      seq: e - 1,
      event_id: d.lastId,
      checkpoint_size: null,
      detail: `an extra event with seq ${e - 1} stands before event ${e - 1}`,
    };
  }
  if (c === r) {
    // The row links to the last good event, so it is the right event, changed.
    return at(
      'modified',
      rSeq === e
        ? `event ${e}: recomputed hash differs from the stored hash`
        : `event ${e}: its seq was changed to ${rSeq}`,
    );
  }
  // An extra row with a valid hash was inserted; one whose hash no longer matches was changed.
  const selfValid = r.hash !== null && eventHash(r) === r.hash;
  if (rSeq === null || rSeq < e) {
    return selfValid
      ? at('inserted', `an extra event with seq ${rSeq} follows event ${e - 1}`)
      : at('modified', `an event changed to seq ${rSeq} shows up after event ${e - 1}`);
  }
  if (c !== null) {
    if (c.seq === e) {
      return selfValid
        ? at('inserted', `an extra event with seq ${rSeq} stands before event ${e}`)
        : at('modified', `an event changed to seq ${rSeq} stands before event ${e}`);
    }
    // The changed event is c, found further on; name it rather than the row in its place.
    const changed = (detail: string): Damage => ({ ...at('modified', detail), event_id: c.id ?? null });
    if (c.hash !== null && eventHash({ ...c, seq: e }) === c.hash) {
      return rSeq === e
        ? at('reordered', `event ${e} was moved to seq ${c.seq} and another event put in its place`)
        : changed(`event ${e}: its seq was changed to ${c.seq}`);
    }
    return changed(`event ${e} was changed and moved to seq ${c.seq}`);
  }
  if (rSeq > e) return at('deleted', `event ${e}${rSeq > e + 1 ? `..${rSeq - 1}` : ''} is missing`);
  return at('modified', `event ${e}: its link or content was changed`);
}

/**
 * An event whose chain_id was changed leaves its own chain (which then looks like a deletion) and
 * starts a bogus chain of its own. Recognise the pair and report a modification instead.
 */
function reclassifyMovedEvents(reports: ChainVerifyReport[], failures: Map<string, FailureContext>): void {
  for (const rep of reports) {
    if (rep.damage?.kind !== 'deleted' && rep.damage?.kind !== 'truncated') continue;
    const f = failures.get(rep.chain_id);
    if (!f) continue;
    for (const other of reports) {
      const g = failures.get(other.chain_id);
      const row = g?.row;
      if (
        other === rep ||
        !row ||
        row.prev_hash !== f.prevHash ||
        row.seq !== f.expectedSeq ||
        row.hash === null
      )
        continue;
      if (eventHash({ ...row, chain_id: rep.chain_id }) !== row.hash) continue;
      rep.damage = {
        kind: 'modified',
        chain_id: rep.chain_id,
        seq: f.expectedSeq,
        event_id: row.id,
        checkpoint_size: null,
        detail: `event ${f.expectedSeq}: its chain_id was changed (it now appears in another chain)`,
      };
      other.damage = {
        ...rep.damage,
        chain_id: other.chain_id,
        detail: `contains event ${row.id} moved from chain ${rep.chain_id}`,
      };
      rep.damages[0] = rep.damage;
      other.damages[0] = other.damage;
    }
  }
}
