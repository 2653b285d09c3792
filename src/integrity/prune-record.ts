/**
 * Signed prune records (docs/integrity.md "Retention: prune records"). When retention deletes old
 * events of a chain, or replaces old content by its digest, the prune is itself an administrative
 * event in the trail whose `error_message` states what was pruned and is signed with the checkpoint
 * signing key, so `tollgate verify` tells a lawful prune from a deletion:
 *
 *   endpoint       `admin:audit.prune` (events) or `admin:audit.content_prune` (content)
 *   http_method    `ADMIN` (left out of cost rollups)
 *   request_source `retention`
 *   error_message  one line, `key=value` fields in this order, then `key=<signer> sig=<base64>`:
 *
 *   events pruned: chain=<chain_id, URI-encoded> seq=<first>..<last> count=<deleted> kept=<kept>
 *     tree_root=<hex MTH of the chain's leaves 1..last> pruned_root=<hex MTH of the deleted events'
 *     hashes, in seq order> kept_root=<hex MTH of the kept events' hashes> last_hash=<hash of event
 *     <last>> policy=<events:400d> cutoff=<ISO> at=<ISO>
 *
 *   content pruned: chain=<…> seq=<first>..<last> count=<n> pruned_root=<hex MTH of the SHA-256 of
 *     each content-pruned event's canonical JSON as now stored, in seq order> policy=<content:30d>
 *     cutoff=<ISO> at=<ISO>
 *
 * `last` of an events prune is always the tree size of a signed checkpoint of the chain, whose
 * stored frontier lets verify go on from `last + 1` without the deleted leaves. `kept` events are the
 * ones under a legal hold and administrative events (prune, hold, gap, erase records), which are
 * never pruned. The signature is a C2SP signed-note signature (signed-note.ts) over the text before
 * ` key=` followed by a newline, by the checkpoint signing key: whoever can write the store but not
 * sign cannot pass a deletion off as a prune.
 */
import type { AuditEvent } from '../core/audit-event.js';
import { ADMIN_METHOD, adminActionEvent } from '../core/admin-action-event.js';
import type { Clock } from '../core/clock.js';
import { CompactRange, EventLeafHasher } from './merkle.js';
import { openNote, signNote, type NoteSigner, type NoteVerifier } from './signed-note.js';

/** Endpoint of a record of deleted events. */
export const PRUNE_RECORD_ACTION = 'admin:audit.prune';
/** Endpoint of a record of content replaced by its digest. */
export const CONTENT_PRUNE_RECORD_ACTION = 'admin:audit.content_prune';
/** `request_source` of prune records. */
export const PRUNE_RECORD_ACTOR = 'retention';
/** What content becomes when it is pruned: its digest and length stay, the text goes. */
export const PRUNED_CONTENT_PREFIX = 'pruned:sha256:';

/** What an events prune record states (before signing). */
export interface PruneStatement {
  chain_id: string;
  first_seq: number;
  last_seq: number;
  /** Events deleted. */
  count: number;
  /** Events of the range kept (held, or administrative). */
  kept: number;
  /** Hex RFC 6962 root of the chain's leaves 1..last_seq (= the signed checkpoint at last_seq). */
  tree_root: string;
  /** Hex RFC 6962 root over the deleted events' hashes (leaf data = the 32-byte hash), in seq order. */
  pruned_root: string;
  /** Hex RFC 6962 root over the kept events' hashes, in seq order. */
  kept_root: string;
  /** `hash` of event `last_seq`: the next event's prev_hash. */
  last_hash: string;
  /** The retention rule that allowed it, `events:<duration>`. */
  policy: string;
  /** Events older than this (timestamp) were past retention (ISO-8601). */
  cutoff: string;
  /** When the prune ran (ISO-8601). */
  at: string;
}

/** What a content prune record states (before signing). */
export interface ContentPruneStatement {
  chain_id: string;
  first_seq: number;
  last_seq: number;
  /** Events whose content was replaced by its digest. */
  count: number;
  /** Hex RFC 6962 root over SHA-256 of each such event's canonical JSON as now stored, in seq order. */
  pruned_root: string;
  /** `content:<duration>`. */
  policy: string;
  cutoff: string;
  at: string;
}

/** A signed record as found in the store. */
export interface PruneRecord extends PruneStatement {
  record_chain_id: string;
  record_seq: number;
  record_event_id: string;
  /** Name of the key that signed it. */
  signer: string;
}

export interface ContentPruneRecord extends ContentPruneStatement {
  record_chain_id: string;
  record_seq: number;
  record_event_id: string;
  signer: string;
}

const HEX = '([0-9a-f]{64})';
const SEQ = '([1-9][0-9]*)\\.\\.([1-9][0-9]*)';
const COUNT = '(0|[1-9][0-9]*)';
const TAIL = ' policy=(\\S+) cutoff=(\\S+) at=(\\S+)';
const SIG = ' key=(\\S+) sig=([A-Za-z0-9+/=]+)$';
const EVENTS_BODY = new RegExp(
  `^events pruned: chain=(\\S+) seq=${SEQ} count=${COUNT} kept=${COUNT} tree_root=${HEX} pruned_root=${HEX} kept_root=${HEX} last_hash=${HEX}${TAIL}$`,
);
const CONTENT_BODY = new RegExp(
  `^content pruned: chain=(\\S+) seq=${SEQ} count=${COUNT} pruned_root=${HEX}${TAIL}$`,
);

export function formatPruneBody(s: PruneStatement): string {
  return `events pruned: chain=${encodeURIComponent(s.chain_id)} seq=${s.first_seq}..${s.last_seq} count=${s.count} kept=${s.kept} tree_root=${s.tree_root} pruned_root=${s.pruned_root} kept_root=${s.kept_root} last_hash=${s.last_hash} policy=${encodeURIComponent(s.policy)} cutoff=${s.cutoff} at=${s.at}`;
}

export function formatContentPruneBody(s: ContentPruneStatement): string {
  return `content pruned: chain=${encodeURIComponent(s.chain_id)} seq=${s.first_seq}..${s.last_seq} count=${s.count} pruned_root=${s.pruned_root} policy=${encodeURIComponent(s.policy)} cutoff=${s.cutoff} at=${s.at}`;
}

/** `<body> key=<signer name> sig=<base64(key id || Ed25519 signature of body + "\n")>`. */
export function signRecordBody(body: string, signer: NoteSigner): string {
  const note = signNote(body + '\n', [signer]);
  const line = note.slice(body.length + 2).trimEnd();
  const sig = line.slice(line.lastIndexOf(' ') + 1);
  return `${body} key=${signer.name} sig=${sig}`;
}

/** The body of a signed message when `keys` verify its signature; else why not. */
function openSigned(
  message: string,
  keys: readonly NoteVerifier[],
): { ok: true; body: string; signer: string } | { ok: false; why: string; body: string | null } {
  const m = new RegExp(SIG).exec(message);
  if (!m) return { ok: false, why: 'unsigned', body: null };
  const body = message.slice(0, m.index);
  const opened = openNote(`${body}\n\n\u2014 ${m[1]} ${m[2]}\n`, keys);
  if (!opened.ok)
    return {
      ok: false,
      why:
        opened.reason === 'unknown_key'
          ? `signed by ${m[1]}, not a trusted key`
          : 'its signature does not verify',
      body,
    };
  return { ok: true, body, signer: m[1]! };
}

export function isPruneRecord(e: AuditEvent): boolean {
  return e.http_method === ADMIN_METHOD && e.endpoint === PRUNE_RECORD_ACTION;
}

export function isContentPruneRecord(e: AuditEvent): boolean {
  return e.http_method === ADMIN_METHOD && e.endpoint === CONTENT_PRUNE_RECORD_ACTION;
}

/** Result of reading a prune record: the statement when well-formed and signed by a trusted key. */
export type ParsedRecord<T> = { ok: true; record: T } | { ok: false; why: string };

function decode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

function where(e: AuditEvent): { record_chain_id: string; record_seq: number; record_event_id: string } {
  return { record_chain_id: e.chain_id ?? '', record_seq: e.seq ?? 0, record_event_id: e.id };
}

/** Reads an events prune record; `keys` are the trusted checkpoint keys. */
export function parsePruneRecord(e: AuditEvent, keys: readonly NoteVerifier[]): ParsedRecord<PruneRecord> {
  if (!isPruneRecord(e) || e.error_message === null) return { ok: false, why: 'not a prune record' };
  const signed = openSigned(e.error_message, keys);
  if (!signed.ok) return { ok: false, why: signed.why };
  const m = EVENTS_BODY.exec(signed.body);
  const chain = m ? decode(m[1]!) : null;
  const policy = m ? decode(m[10]!) : null;
  if (!m || chain === null || policy === null) return { ok: false, why: 'malformed' };
  const first = Number(m[2]);
  const last = Number(m[3]);
  const count = Number(m[4]);
  const kept = Number(m[5]);
  // A range can also hold seqs of lost events (accounted gaps): count + kept ≤ the range.
  if (!Number.isSafeInteger(last) || first > last || count + kept > last - first + 1)
    return { ok: false, why: 'malformed' };
  return {
    ok: true,
    record: {
      chain_id: chain,
      first_seq: first,
      last_seq: last,
      count,
      kept,
      tree_root: m[6]!,
      pruned_root: m[7]!,
      kept_root: m[8]!,
      last_hash: m[9]!,
      policy,
      cutoff: m[11]!,
      at: m[12]!,
      ...where(e),
      signer: signed.signer,
    },
  };
}

/** Reads a content prune record; `keys` are the trusted checkpoint keys. */
export function parseContentPruneRecord(
  e: AuditEvent,
  keys: readonly NoteVerifier[],
): ParsedRecord<ContentPruneRecord> {
  if (!isContentPruneRecord(e) || e.error_message === null)
    return { ok: false, why: 'not a content prune record' };
  const signed = openSigned(e.error_message, keys);
  if (!signed.ok) return { ok: false, why: signed.why };
  const m = CONTENT_BODY.exec(signed.body);
  const chain = m ? decode(m[1]!) : null;
  const policy = m ? decode(m[6]!) : null;
  if (!m || chain === null || policy === null) return { ok: false, why: 'malformed' };
  const first = Number(m[2]);
  const last = Number(m[3]);
  const count = Number(m[4]);
  if (!Number.isSafeInteger(last) || first > last || count > last - first + 1)
    return { ok: false, why: 'malformed' };
  return {
    ok: true,
    record: {
      chain_id: chain,
      first_seq: first,
      last_seq: last,
      count,
      pruned_root: m[5]!,
      policy,
      cutoff: m[7]!,
      at: m[8]!,
      ...where(e),
      signer: signed.signer,
    },
  };
}

/** RFC 6962 root over a list of hex hashes (each the leaf data), in O(log n) memory as they come. */
export class HashListRoot {
  private readonly range = new CompactRange();
  private readonly leaf = new EventLeafHasher();
  add(hexHash: string): void {
    this.range.append(this.leaf.hash(hexHash));
  }
  get size(): number {
    return this.range.size;
  }
  /** Hex root (of the empty tree when nothing was added). */
  root(): string {
    return this.range.root().toString('hex');
  }
}

/** True when a content field holds pruned content (`pruned:sha256:<hex>:len=<n>`). */
export function isPrunedContent(v: string | null): boolean {
  return v !== null && v.startsWith(PRUNED_CONTENT_PREFIX);
}

/** The chained admin event of a signed prune record (`message` from `signRecordBody`). */
export function pruneRecordEvent(
  action: typeof PRUNE_RECORD_ACTION | typeof CONTENT_PRUNE_RECORD_ACTION,
  message: string,
  clock: Clock,
  source: AuditEvent['source'] = 'gateway',
): AuditEvent {
  const e = adminActionEvent({ action, actor: PRUNE_RECORD_ACTOR, subject: null, ok: true }, clock, source);
  e.auth_method = null;
  e.auth_result = null;
  e.error_message = message;
  return e;
}
