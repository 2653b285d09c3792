/**
 * Retention (docs/privacy.md "Retention"): deletes events older than `retention.events` and
 * replaces content older than `retention.content` by its digest, each run bounded per chain, and
 * records every pruned range as a signed prune record in the trail (integrity/prune-record.ts),
 * chained and stored before anything is deleted, so `tollgate verify` tells the prune from a
 * deletion.
 *
 * Events are pruned per chain from its start (or the previous boundary) up to the tree size of a
 * signed checkpoint (whose stored frontier lets verify continue without the deleted leaves), only
 * when every event up to there is past retention. Held events (hold-record.ts) and administrative
 * events (prune, hold, gap and erase records, admin actions) inside the range are kept. Before
 * anything is pruned, the range is checked: every event re-hashed, and the tree rebuilt from the
 * previous boundary must give the checkpoint's signed root; a chain that does not verify is left
 * alone (run `tollgate verify`).
 */
import { createHash } from 'node:crypto';
import type { AuditEvent } from '../core/audit-event.js';
import { ADMIN_METHOD } from '../core/admin-action-event.js';
import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { TollgateError } from '../core/errors.js';
import { eventHash } from '../integrity/canonical-json.js';
import { DEFAULT_ORIGIN_PREFIX, checkpointOrigin, openCheckpoint } from '../integrity/checkpoint.js';
import { LOST_LEAF } from '../integrity/gap-record.js';
import { EventLeafHasher } from '../integrity/merkle.js';
import {
  CONTENT_PRUNE_RECORD_ACTION,
  HashListRoot,
  PRUNED_CONTENT_PREFIX,
  PRUNE_RECORD_ACTION,
  formatContentPruneBody,
  formatPruneBody,
  isPrunedContent,
  pruneRecordEvent,
  signRecordBody,
  type ContentPruneStatement,
  type PruneRecord,
  type PruneStatement,
} from '../integrity/prune-record.js';
import { adminEvents, pruneBoundary, readPruneState, signedFrontierAt } from '../integrity/prune-state.js';
import type { NoteSigner, NoteVerifier } from '../integrity/signed-note.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import type { EventStore } from '../store/event-store.js';
import { heldBy, holdsFrom, type Hold } from './hold-record.js';

export interface RetentionPolicy {
  /** Delete events older than this (ms); null: keep. */
  eventsMs: number | null;
  /** Replace content older than this by its digest (ms); null: keep. */
  contentMs: number | null;
  /** At most this many events examined per chain and kind, per run. */
  batch: number;
}

export interface PruneOptions {
  events: EventStore;
  checkpoints: CheckpointStore;
  /** The checkpoint signing key: it signs the records. */
  signer: NoteSigner;
  /** Keys trusted for earlier records and checkpoints (the signer's verifier among them). */
  keys: readonly NoteVerifier[];
  policy: RetentionPolicy;
  clock: Clock;
  /** Chains and stores the record, resolving once it is durably stored (CLI: admin-cli chain; gateway: its own). */
  record: (event: AuditEvent) => Promise<AuditEvent>;
  dryRun?: boolean;
  /** Only these chains (a gateway prunes its own chain: replicas never prune one chain twice). */
  chains?: readonly string[];
  originPrefix?: string;
  /** Called after each chain. */
  onProgress?: (done: number, total: number, chainId: string) => void;
  /** Who prunes, as the store's retention lock names it to a prune refused meanwhile (`cli`, the instance id). */
  holder?: string;
}

/** What was (or, with dryRun, would be) deleted from one chain. */
export interface ChainPruneResult {
  chain_id: string;
  first_seq: number;
  last_seq: number;
  deleted: number;
  /** Kept in the range: under a legal hold. */
  held: number;
  /** Kept in the range: administrative events. */
  admin_kept: number;
  /** Timestamps of the oldest and newest deleted event. */
  oldest: string | null;
  newest: string | null;
  record_event_id: string | null;
  /**
   * True when this is an earlier prune finished now: its signed record was stored but the process
   * stopped before its rows were deleted (`record_event_id` is that record).
   */
  finished?: boolean;
}

export interface ChainContentPruneResult {
  chain_id: string;
  first_seq: number;
  last_seq: number;
  /** Events whose content was replaced by its digest. */
  pruned: number;
  /** Events with content kept because a hold covers them. */
  held: number;
  record_event_id: string | null;
}

export interface PruneResult {
  dry_run: boolean;
  events_cutoff: string | null;
  content_cutoff: string | null;
  events: ChainPruneResult[];
  content: ChainContentPruneResult[];
  /** Chains left alone, and why (no checkpoint yet, damaged, …). */
  skipped: { chain_id: string; why: string }[];
  deleted: number;
  content_pruned: number;
  holds_in_force: number;
}

/** The digest form of pruned content: `pruned:sha256:<hex of the stored value>:len=<UTF-8 bytes>`. */
export function prunedContent(v: string): string {
  return `${PRUNED_CONTENT_PREFIX}${createHash('sha256').update(v, 'utf8').digest('hex')}:len=${Buffer.byteLength(v, 'utf8')}`;
}

/**
 * Runs one prune over every chain of the store, holding the store's retention lock (a dry run
 * takes none): a second prune meanwhile — the gateway's schedule and the CLI, or two replicas — is
 * refused with TG_ERR_RETENTION_BUSY naming the holder, instead of signing a second record for the
 * same range.
 */
export async function pruneStore(o: PruneOptions): Promise<PruneResult> {
  if (o.dryRun || !o.events.lockRetention) return pruneUnlocked(o);
  const taken = await o.events.lockRetention(o.holder ?? `pid ${process.pid}`);
  if ('heldBy' in taken) throw new TollgateError('TG_ERR_RETENTION_BUSY', { ...taken.heldBy });
  try {
    return await pruneUnlocked(o);
  } finally {
    await taken.lock.release();
  }
}

async function pruneUnlocked(o: PruneOptions): Promise<PruneResult> {
  const now = o.clock.now();
  const { eventsMs, contentMs } = o.policy;
  const admin = await adminEvents(o.events);
  const holds = holdsFrom(admin).filter((h) => h.released_at === null);
  const state = await readPruneState(o.events, o.keys, admin);
  const result: PruneResult = {
    dry_run: o.dryRun === true,
    events_cutoff: eventsMs === null ? null : new Date(now - eventsMs).toISOString(),
    content_cutoff: contentMs === null ? null : new Date(now - contentMs).toISOString(),
    events: [],
    content: [],
    skipped: [],
    deleted: 0,
    content_pruned: 0,
    holds_in_force: holds.length,
  };
  if (eventsMs !== null || contentMs !== null) {
    if (!o.dryRun && (!o.events.deleteChainRange || !o.events.replaceContent))
      throw new TollgateError('TG_ERR_CONFIG_INVALID', { reason: 'this store cannot prune' });
  }
  const heads = (await o.events.chains()).filter(
    (c) => o.chains === undefined || o.chains.includes(c.chain_id),
  );
  const chains = heads.map((c) => c.chain_id);
  const headSeq = new Map(heads.map((h) => [h.chain_id, h.seq]));
  let done = 0;
  for (const chainId of chains) {
    const boundary = pruneBoundary(state.events.get(chainId));
    if (contentMs !== null) {
      const from = Math.max(boundary, pruneBoundaryOfContent(state.content.get(chainId))) + 1;
      const c = await pruneChainContent(o, chainId, from, now - contentMs, holds);
      if (c) {
        result.content.push(c);
        result.content_pruned += c.pruned;
      }
    }
    if (eventsMs !== null) {
      const last = state.events.get(chainId)?.at(-1);
      const interrupted = last ? await finishInterruptedPrune(o, last, holds) : null;
      if (interrupted !== null && 'why' in interrupted) {
        result.skipped.push({ chain_id: chainId, why: interrupted.why });
        o.onProgress?.(++done, chains.length, chainId);
        continue;
      }
      if (interrupted !== null) {
        result.events.push(interrupted);
        result.deleted += interrupted.deleted;
      }
      const r = await pruneChainEvents(
        o,
        chainId,
        boundary,
        now - eventsMs,
        holds,
        headSeq.get(chainId) ?? 0,
      );
      if ('why' in r) {
        if (r.why !== '') result.skipped.push({ chain_id: chainId, why: r.why });
      } else {
        result.events.push(r);
        result.deleted += r.deleted;
      }
    }
    o.onProgress?.(++done, chains.length, chainId);
  }
  return result;
}

/**
 * Finishes a prune that a crash interrupted between storing its signed record and deleting its
 * rows (the delete is one transaction: either all of the range's rows are gone or none). Only the
 * chain's newest record can be in that state, since a later prune starts past it. The rows still
 * in its range are split as it was split — administrative or held events kept, the rest deleted —
 * and deleted only when counts and both hash-list roots equal the signed record's; otherwise
 * (a hold changed since, or a row was altered) nothing is deleted and the chain is skipped with
 * the reason, for `tollgate verify` to explain. Null when the record's rows are already gone.
 */
async function finishInterruptedPrune(
  o: PruneOptions,
  record: PruneRecord,
  holds: readonly Hold[],
): Promise<ChainPruneResult | { why: string } | null> {
  const rows: ScannedEvent[] = [];
  for await (const e of o.events.iterateChain(record.chain_id, record.first_seq)) {
    if ((e.seq ?? 0) > record.last_seq) break;
    rows.push({ seq: e.seq ?? 0, hash: e.hash ?? '', kept: isKept(e, holds), timestamp: e.timestamp });
  }
  if (rows.length <= record.kept) return null;
  const deleted = rows.filter((r) => r.kept === null);
  const kept = rows.filter((r) => r.kept !== null);
  const prunedRoot = new HashListRoot();
  for (const r of deleted) prunedRoot.add(r.hash);
  const keptRoot = new HashListRoot();
  for (const r of kept) keptRoot.add(r.hash);
  if (
    deleted.length !== record.count ||
    kept.length !== record.kept ||
    prunedRoot.root() !== record.pruned_root ||
    keptRoot.root() !== record.kept_root
  )
    return {
      why: `prune record ${record.record_event_id} (seqs ${record.first_seq}..${record.last_seq}) names ${rows.length - record.kept} event(s) still stored that do not match what it signed (a hold changed since, or an event was altered): nothing deleted, run tollgate verify`,
    };
  const result: ChainPruneResult = {
    chain_id: record.chain_id,
    first_seq: record.first_seq,
    last_seq: record.last_seq,
    deleted: deleted.length,
    held: kept.filter((r) => r.kept === 'held').length,
    admin_kept: kept.filter((r) => r.kept === 'admin').length,
    oldest: deleted.length > 0 ? minTs(deleted) : null,
    newest: deleted.length > 0 ? maxTs(deleted) : null,
    record_event_id: record.record_event_id,
    finished: true,
  };
  if (o.dryRun) return result;
  result.deleted = await o.events.deleteChainRange!(
    record.chain_id,
    record.first_seq,
    record.last_seq,
    kept.map((r) => r.seq),
  );
  return result;
}

function pruneBoundaryOfContent(records: readonly { last_seq: number }[] | undefined): number {
  return (records ?? []).reduce((n, r) => Math.max(n, r.last_seq), 0);
}

function isKept(e: AuditEvent, holds: readonly Hold[]): 'admin' | 'held' | null {
  if (e.http_method === ADMIN_METHOD) return 'admin';
  return heldBy(holds, e) ? 'held' : null;
}

interface ScannedEvent {
  seq: number;
  hash: string;
  kept: 'admin' | 'held' | null;
  timestamp: string;
}

async function pruneChainEvents(
  o: PruneOptions,
  chainId: string,
  boundary: number,
  cutoffMs: number,
  holds: readonly Hold[],
  head: number,
): Promise<ChainPruneResult | { why: string }> {
  const prefix = o.originPrefix ?? DEFAULT_ORIGIN_PREFIX;
  const origin = checkpointOrigin(chainId, prefix);
  // Signed checkpoints past the boundary with a frontier: the places a prune may end.
  const ends = new Map<number, Buffer>();
  for (const s of await o.checkpoints.list(chainId)) {
    // Never the head: a chain keeps its newest event, so a restarted writer resumes after it.
    if (s.tree_size <= boundary || s.tree_size > boundary + o.policy.batch || s.tree_size >= head) continue;
    const opened = openCheckpoint(s.note, o.keys);
    if (opened.ok && opened.checkpoint.origin === origin) ends.set(s.tree_size, opened.checkpoint.rootHash);
  }
  if (ends.size === 0) return { why: '' };
  const range = await signedFrontierAt(o.checkpoints, chainId, boundary, o.keys, prefix);
  if (range === null)
    return {
      why: `no signed checkpoint with its frontier at the last prune boundary (tree size ${boundary})`,
    };
  const leaf = new EventLeafHasher();
  const scanned: ScannedEvent[] = [];
  let end = 0;
  let endIndex = 0;
  const maxEnd = Math.max(...ends.keys());
  for await (const e of o.events.iterateChain(chainId, boundary + 1)) {
    const seq = e.seq ?? 0;
    if (seq > maxEnd) break;
    if (
      e.hash === null ||
      (eventHash(e) !== e.hash && !isPrunedContent(e.prompt) && !isPrunedContent(e.response))
    )
      return { why: `event ${seq} does not verify (run tollgate verify); nothing pruned` };
    const kept = isKept(e, holds);
    if (kept === null && Date.parse(e.timestamp) >= cutoffMs) break;
    // Seqs the writer could not store (accounted gaps) keep their place as lost leaves.
    if (seq > range.size + 1) range.appendRepeated(LOST_LEAF, seq - 1 - range.size);
    range.append(leaf.hash(e.hash));
    scanned.push({ seq, hash: e.hash, kept, timestamp: e.timestamp });
    const root = ends.get(range.size);
    if (root !== undefined) {
      if (!range.root().equals(root))
        return {
          why: `events ${boundary + 1}..${range.size} do not match the signed checkpoint at tree size ${range.size} (run tollgate verify); nothing pruned`,
        };
      end = range.size;
      endIndex = scanned.length;
    }
  }
  if (end === 0) return { why: '' };
  const inRange = scanned.slice(0, endIndex);
  const deleted = inRange.filter((s) => s.kept === null);
  const kept = inRange.filter((s) => s.kept !== null);
  const prunedRoot = new HashListRoot();
  for (const s of deleted) prunedRoot.add(s.hash);
  const keptRoot = new HashListRoot();
  for (const s of kept) keptRoot.add(s.hash);
  const result: ChainPruneResult = {
    chain_id: chainId,
    first_seq: boundary + 1,
    last_seq: end,
    deleted: deleted.length,
    held: kept.filter((s) => s.kept === 'held').length,
    admin_kept: kept.filter((s) => s.kept === 'admin').length,
    oldest: deleted.length > 0 ? minTs(deleted) : null,
    newest: deleted.length > 0 ? maxTs(deleted) : null,
    record_event_id: null,
  };
  if (o.dryRun) return result;
  const statement: PruneStatement = {
    chain_id: chainId,
    first_seq: boundary + 1,
    last_seq: end,
    count: deleted.length,
    kept: kept.length,
    tree_root: range.root().toString('hex'),
    pruned_root: prunedRoot.root(),
    kept_root: keptRoot.root(),
    last_hash: inRange[inRange.length - 1]!.hash,
    policy: `events:${formatPolicy(o.policy.eventsMs!)}`,
    cutoff: new Date(cutoffMs).toISOString(),
    at: new Date(o.clock.now()).toISOString(),
  };
  // The record is stored before anything is deleted: a crash in between leaves events the record
  // names, never a deletion without one.
  const recorded = await o.record(
    pruneRecordEvent(PRUNE_RECORD_ACTION, signRecordBody(formatPruneBody(statement), o.signer), o.clock),
  );
  result.record_event_id = recorded.id;
  const n = await o.events.deleteChainRange!(
    chainId,
    boundary + 1,
    end,
    kept.map((s) => s.seq),
  );
  result.deleted = n;
  return result;
}

async function pruneChainContent(
  o: PruneOptions,
  chainId: string,
  from: number,
  cutoffMs: number,
  holds: readonly Hold[],
): Promise<ChainContentPruneResult | null> {
  const updates: {
    id: string;
    seq: number;
    prompt: string | null;
    response: string | null;
    after: string;
  }[] = [];
  let last = 0;
  let held = 0;
  let examined = 0;
  for await (const e of o.events.iterateChain(chainId, from)) {
    if (examined++ >= o.policy.batch) break;
    const kept = isKept(e, holds);
    if (kept === null && Date.parse(e.timestamp) >= cutoffMs) break;
    last = e.seq ?? last;
    if (kept !== null) {
      if (kept === 'held' && (e.prompt !== null || e.response !== null)) held++;
      continue;
    }
    if (
      (e.prompt === null || isPrunedContent(e.prompt)) &&
      (e.response === null || isPrunedContent(e.response))
    )
      continue;
    if (e.hash === null || eventHash(e) !== e.hash) continue; // damaged: verify's to report, not ours to hide
    const next = {
      ...e,
      prompt: e.prompt === null || isPrunedContent(e.prompt) ? e.prompt : prunedContent(e.prompt),
      response: e.response === null || isPrunedContent(e.response) ? e.response : prunedContent(e.response),
    };
    updates.push({
      id: e.id,
      seq: e.seq ?? 0,
      prompt: next.prompt,
      response: next.response,
      after: eventHash(next),
    });
  }
  if (last === 0 || updates.length === 0) return null;
  const first = updates[0]!.seq;
  const lastSeq = updates[updates.length - 1]!.seq;
  const result: ChainContentPruneResult = {
    chain_id: chainId,
    first_seq: first,
    last_seq: lastSeq,
    pruned: updates.length,
    held,
    record_event_id: null,
  };
  if (o.dryRun) return result;
  const root = new HashListRoot();
  for (const u of updates) root.add(u.after);
  const statement: ContentPruneStatement = {
    chain_id: chainId,
    first_seq: first,
    last_seq: lastSeq,
    count: updates.length,
    pruned_root: root.root(),
    policy: `content:${formatPolicy(o.policy.contentMs!)}`,
    cutoff: new Date(cutoffMs).toISOString(),
    at: new Date(o.clock.now()).toISOString(),
  };
  const recorded = await o.record(
    pruneRecordEvent(
      CONTENT_PRUNE_RECORD_ACTION,
      signRecordBody(formatContentPruneBody(statement), o.signer),
      o.clock,
    ),
  );
  result.record_event_id = recorded.id;
  await o.events.replaceContent!(updates.map((u) => ({ id: u.id, prompt: u.prompt, response: u.response })));
  return result;
}

/** `400d`, `30d`, `12h`: the policy as configured, in the record. */
function formatPolicy(ms: number): string {
  const day = 86_400_000;
  if (ms % day === 0) return `${ms / day}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  return formatDuration(ms).replace(/\s+/g, '');
}

function minTs(list: readonly ScannedEvent[]): string {
  return list.reduce((m, s) => (s.timestamp < m ? s.timestamp : m), list[0]!.timestamp);
}

function maxTs(list: readonly ScannedEvent[]): string {
  return list.reduce((m, s) => (s.timestamp > m ? s.timestamp : m), list[0]!.timestamp);
}
