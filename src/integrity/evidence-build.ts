/**
 * Writes an evidence bundle (evidence-bundle.ts) from a store: per chain, the head, the signed
 * checkpoints of the window with consistency proofs between them, the links after the newest
 * checkpoint; the administrative events of the window and every prune and hold record, each with
 * its inclusion proof; the anchors, keys, verify report and configuration given by the caller.
 * Reads each chain through its narrow link read (no content is decoded but the admin events'): once
 * for the prune records, once for the leaves, and the pruned range once more for its kept events.
 */
import type { AuditEvent } from '../core/audit-event.js';
import type { EventStore } from '../store/event-store.js';
import { chainLinks } from '../store/event-store.js';
import type { CheckpointStore, StoredCheckpoint } from '../store/checkpoint-store.js';
import type { AnchorReport } from './anchor-check.js';
import type { AnchorContents } from './anchors.js';
import { parseCheckpoint } from './checkpoint.js';
import {
  EVIDENCE_FORMAT,
  evidenceSectionOf,
  sectionDigests,
  signEvidence,
  type EvidenceBundle,
  type EvidenceChain,
  type EvidenceEvent,
  type EvidenceManifest,
  type EvidenceSections,
} from './evidence-bundle.js';
import { LOST_LEAF } from './gap-record.js';
import { EventLeafHasher } from './merkle.js';
import { MerkleLevels } from './merkle-levels.js';
import { isPruneRecord } from './prune-record.js';
import { parseNote, type NoteSigner, type NoteVerifier } from './signed-note.js';
import type { VerifyReport } from './verify.js';

export interface EvidenceBuildInput {
  store: EventStore;
  checkpoints: CheckpointStore;
  /** This store's anchor file, read; null when there is none. */
  anchors: AnchorContents | null;
  /** The data folder's keyring (listed, not trusted). */
  keyring: readonly NoteVerifier[];
  /** The verify report of this store at export time (with its anchors section). */
  verify: VerifyReport & { anchors: AnchorReport };
  /** The configuration in force, secrets already removed. */
  config: Record<string, unknown>;
  storeId: string;
  sinceMs: number;
  nowMs: number;
  /** Signs the bundle; null writes an unsigned bundle (`--unsigned`). */
  signer: (NoteSigner & { verifierKey: string }) | null;
  /** The holds in force at export time, read from the bundled hold records (retention/hold-record.ts). */
  activeHolds?: (records: AuditEvent[]) => Record<string, unknown>[];
}

type CheckpointLike = { tree_size: number; created_ms: number; note: string };

/** Builds the bundle (signed when a signer is given). */
export async function buildEvidenceBundle(input: EvidenceBuildInput): Promise<EvidenceBundle> {
  const chains: EvidenceChain[] = [];
  const events: Record<'prunes' | 'holds' | 'access_log', EvidenceEvent[]> = {
    prunes: [],
    holds: [],
    access_log: [],
  };
  const heads = await input.store.chains();
  const pruned = await prunedThroughByChain(input.store, heads);
  for (const head of heads) {
    const stored = await input.checkpoints.list(head.chain_id);
    const built = await buildChain(input, head, stored, pruned.get(head.chain_id) ?? null);
    chains.push(built.chain);
    for (const e of built.events) events[evidenceSectionOf(e.event)].push(e);
  }
  const anchorRecords = input.anchors ? thinCheckpoints(input.anchors.checkpoints, input.sinceMs) : [];
  const announced = new Set<string>();
  for (const note of [
    ...chains.flatMap((c) => c.checkpoints.map((x) => x.note)),
    ...anchorRecords.map((a) => a.note),
  ])
    for (const k of announcedKeys(note)) announced.add(k);
  const sections: EvidenceSections = {
    chains,
    anchors: {
      file: input.anchors?.path ?? null,
      checkpoints: anchorRecords,
      keys: input.anchors?.keys ?? [],
    },
    keys: {
      pinned: [...new Set((input.anchors?.keys ?? []).map((k) => k.verifier_key))],
      announced: [...announced],
      keyring: input.keyring.map((k) => k.verifierKey),
      signer: input.signer?.verifierKey ?? null,
    },
    verify: input.verify,
    prunes: events.prunes,
    holds: {
      records: events.holds,
      active: input.activeHolds?.(events.holds.map((h) => h.event)) ?? [],
    },
    access_log: events.access_log,
    config: input.config,
  };
  const manifest: EvidenceManifest = {
    format: EVIDENCE_FORMAT,
    created_at: new Date(input.nowMs).toISOString(),
    store_id: input.storeId,
    window: { since: new Date(input.sinceMs).toISOString(), until: new Date(input.nowMs).toISOString() },
    digests: sectionDigests(sections),
  };
  return {
    format: EVIDENCE_FORMAT,
    manifest,
    signature: input.signer ? signEvidence(manifest, input.signer) : null,
    sections,
  };
}

async function buildChain(
  input: EvidenceBuildInput,
  head: { chain_id: string; seq: number; hash: string; count: number },
  stored: StoredCheckpoint[],
  prune: { through: number; lastHash: string } | null,
): Promise<{ chain: EvidenceChain; events: EvidenceEvent[] }> {
  const through = prune?.through ?? 0;
  // One pass over the chain's links: leaves, the admin events wanted, prune boundaries, and the
  // links after the newest checkpoint (not known until the prune boundary is, so all are kept
  // from the newest stored checkpoint on).
  const newestStored = Math.max(0, ...stored.map((c) => c.tree_size).filter((s) => s <= head.seq));
  const leaves = Buffer.alloc(head.seq * 32);
  const hasher = new EventLeafHasher();
  let filled = 0;
  const present: { seq: number; hash: string; prev_hash: string }[] = [];
  const picked: AuditEvent[] = [];
  for await (const link of chainLinks(input.store, head.chain_id, 1)) {
    if (link.seq <= filled || link.seq > head.seq) continue; // a duplicate or out-of-order row: verify names it
    for (; filled + 1 < link.seq; filled++) LOST_LEAF.copy(leaves, filled * 32);
    if (link.hash !== null && /^[0-9a-f]{64}$/.test(link.hash))
      hasher.hash(link.hash).copy(leaves, filled * 32);
    filled = link.seq;
    const hash = link.hash ?? '';
    if (link.seq >= newestStored) present.push({ seq: link.seq, hash, prev_hash: link.prev_hash ?? '' });
    if (link.admin && wanted(link.admin, input)) picked.push(link.admin);
  }
  for (; filled < head.seq; filled++) LOST_LEAF.copy(leaves, filled * 32);
  // Kept events of the pruned range: every row still stored there (a second, narrow pass).
  const kept: { seq: number; hash: string }[] = [];
  if (through > 0)
    for await (const link of chainLinks(input.store, head.chain_id, 1)) {
      if (link.seq > through) break;
      kept.push({ seq: link.seq, hash: link.hash ?? '' });
    }
  const base = through > 0 ? stored.find((c) => c.tree_size === through && c.frontier !== null) : undefined;
  const tree = new MerkleLevels(
    leaves,
    head.seq,
    base ? { size: through, nodes: base.frontier!.map((h) => Buffer.from(h, 'hex')) } : null,
  );
  const window = thinCheckpoints(stored, input.sinceMs);
  if (base && !window.some((c) => c.tree_size === through)) window.unshift(base);
  const checkpoints = window
    .filter((c) => c.tree_size >= through)
    .map((c) => ({ tree_size: c.tree_size, created_ms: c.created_ms, note: c.note }));
  // Proofs need the leaves; a checkpoint beyond the stored head (a truncated store, which verify
  // reports) is bundled but gets no proof.
  const provable = checkpoints.map((c) => c.tree_size).filter((s) => s <= head.seq);
  const newest = provable.length > 0 ? Math.max(...provable) : 0;
  const b64 = (hs: Buffer[]): string[] => hs.map((h) => h.toString('base64'));
  const sizes = [...new Set(provable)].sort((a, b) => a - b);
  const consistency = sizes.slice(1).map((to, i) => ({
    from_size: sizes[i]!,
    to_size: to,
    proof: b64(tree.consistency(sizes[i]!, to)),
  }));
  const events = picked.map((event): EvidenceEvent => {
    const seq = event.seq ?? 0;
    return {
      event,
      proof:
        seq > through && seq <= newest
          ? { tree_size: newest, path: b64(tree.inclusion(seq - 1, newest)) }
          : null,
    };
  });
  const lastCheckpointed = present.find((l) => l.seq === newest);
  return {
    chain: {
      chain_id: head.chain_id,
      head: { seq: head.seq, hash: head.hash, count: head.count },
      checkpoints,
      consistency,
      pruned: through > 0 ? { through, kept } : null,
      tail: {
        checkpoint_size: newest,
        // At the prune boundary the last leaf's neighbours are gone: the signed record's last_hash
        // vouches for it instead of a proof.
        last_checkpointed:
          newest === 0
            ? null
            : prune !== null && newest === through
              ? { seq: newest, hash: prune.lastHash, path: [] }
              : lastCheckpointed
                ? { seq: newest, hash: lastCheckpointed.hash, path: b64(tree.inclusion(newest - 1, newest)) }
                : null,
        links: present.filter((l) => l.seq > newest),
      },
    },
    events,
  };
}

/**
 * Per pruned chain, the last seq its newest events prune record names, and that event's hash. A record may sit in another
 * chain than the one it prunes (`tollgate prune` chains it in its own), so every chain's
 * administrative events are read first (links only; verify checks the records' signatures).
 */
async function prunedThroughByChain(
  store: EventStore,
  heads: readonly { chain_id: string }[],
): Promise<Map<string, { through: number; lastHash: string }>> {
  const out = new Map<string, { through: number; lastHash: string }>();
  for (const head of heads)
    for await (const link of chainLinks(store, head.chain_id, 1)) {
      if (!link.admin || !isPruneRecord(link.admin)) continue;
      const m = /^events pruned: chain=(\S+) seq=\d+\.\.(\d+) .* last_hash=([0-9a-f]{64}) /.exec(
        link.admin.error_message ?? '',
      );
      if (!m) continue;
      let chain: string;
      try {
        chain = decodeURIComponent(m[1]!);
      } catch {
        continue;
      }
      const last = Number(m[2]);
      if (last > (out.get(chain)?.through ?? 0)) out.set(chain, { through: last, lastHash: m[3]! });
    }
  return out;
}

/** Prune and hold records whenever they were made; other admin events inside the window. */
function wanted(e: AuditEvent, input: EvidenceBuildInput): boolean {
  if (evidenceSectionOf(e) !== 'access_log') return true;
  const t = Date.parse(e.timestamp);
  return t >= input.sinceMs && t <= input.nowMs;
}

/**
 * The checkpoints a bundle keeps of one chain: those made since `sinceMs`, the newest one before
 * it (where the window starts from), and every rotation announcement; of several with the same
 * tree size (heartbeats), only the newest. Sorted by tree size, then time.
 */
export function thinCheckpoints<T extends CheckpointLike & { chain_id?: string }>(
  records: readonly T[],
  sinceMs: number,
): T[] {
  const byChain = new Map<string, T[]>();
  for (const r of records) {
    const id = r.chain_id ?? '';
    byChain.set(id, [...(byChain.get(id) ?? []), r]);
  }
  const out: T[] = [];
  for (const list of byChain.values()) {
    const sorted = [...list].sort((a, b) => a.tree_size - b.tree_size || a.created_ms - b.created_ms);
    const before = sorted.filter((r) => r.created_ms < sinceMs);
    const base = before[before.length - 1];
    const bySize = new Map<number, T>();
    for (const r of sorted) {
      if (announcedKeys(r.note).length > 0) out.push(r);
      else if (r.created_ms >= sinceMs || r === base) bySize.set(r.tree_size, r);
    }
    out.push(...bySize.values());
  }
  return out.sort(
    (a, b) =>
      (a.chain_id ?? '').localeCompare(b.chain_id ?? '') ||
      a.tree_size - b.tree_size ||
      a.created_ms - b.created_ms,
  );
}

/** The `key` lines of a checkpoint note (rotation announcements); none when it does not parse. */
export function announcedKeys(note: string): string[] {
  const parsed = parseNote(note);
  if (parsed === null) return [];
  try {
    return parseCheckpoint(parsed.text).announcedKeys ?? [];
  } catch {
    return [];
  }
}
