/**
 * The evidence bundle (`tollgate evidence`): one JSON file an auditor can check offline, without
 * the store (docs/integrity.md "Evidence bundle"). This file holds its shape and the parts the
 * exporter and the checker share: the section digests, the manifest digest and the signed note
 * over it. evidence-build.ts writes a bundle, evidence-check.ts checks one.
 *
 * Each section's digest is the hex SHA-256 of its RFC 8785 canonical JSON; the manifest lists
 * them; the bundle's signature is a C2SP signed note over the manifest's digest, by the
 * checkpoint signing key, whose origin (`tollgate-evidence/v1`) no checkpoint can have. So editing
 * any byte that matters changes a section digest, and fixing the digest changes the manifest,
 * whose signature only the signing key can redo.
 */
import { createHash } from 'node:crypto';
import { ADMIN_METHOD } from '../core/admin-action-event.js';
import type { AuditEvent } from '../core/audit-event.js';
import type { AnchorReport } from './anchor-check.js';
import type { AnchoredKey } from './anchors.js';
import { canonicalize } from './canonical-json.js';
import { isContentPruneRecord, isPruneRecord } from './prune-record.js';
import { openNote, signNote, type NoteSigner, type NoteVerifier, type OpenedNote } from './signed-note.js';
import type { VerifyReport } from './verify.js';
import type { WitnessRecord } from './witness.js';

export const EVIDENCE_FORMAT = 'tollgate-evidence/v1';

/** The sections of a bundle, in the order the manifest lists their digests. */
export const EVIDENCE_SECTIONS = [
  'chains',
  'anchors',
  'keys',
  'verify',
  'prunes',
  'holds',
  'access_log',
  'config',
] as const;
export type EvidenceSectionName = (typeof EVIDENCE_SECTIONS)[number];

/** A stored event with the proof that it is at its position in a signed tree. */
export interface EvidenceEvent {
  /** The event as stored (content redacted or encrypted as it was), `hash` included. */
  event: AuditEvent;
  /**
   * RFC 6962 inclusion proof of the event's leaf (index seq − 1) in the chain's checkpoint of
   * `tree_size` (one of the chain's bundled checkpoints): base64 hashes, leaf to root. Null for an
   * event after the chain's newest checkpoint, which the chain's `tail` links to it instead.
   */
  proof: { tree_size: number; path: string[] } | null;
}

/** One link of a chain after its newest checkpoint (hashes only). */
export interface EvidenceLink {
  seq: number;
  hash: string;
  prev_hash: string;
}

/** One chain: its head, its checkpoints and the proofs that tie them together. */
export interface EvidenceChain {
  chain_id: string;
  /** The chain's head and event count in the store at export time. */
  head: { seq: number; hash: string; count: number };
  /**
   * Signed checkpoints, by tree size: those made in the window, the newest one before it, and
   * every rotation announcement; one per tree size otherwise (the newest heartbeat of a size).
   */
  checkpoints: { tree_size: number; created_ms: number; note: string }[];
  /** RFC 6962 consistency proofs between consecutive distinct tree sizes of `checkpoints`. */
  consistency: { from_size: number; to_size: number; proof: string[] }[];
  /**
   * Set when retention pruned the start of the chain: the events up to `through` (the tree size
   * of a signed checkpoint, the last seq of the newest events prune record) are gone except the
   * `kept` ones (held, administrative), listed with their hashes so the records' `kept_root` can be
   * recomputed. Checkpoints below `through` are left out (their consistency cannot be proven
   * without the pruned leaves); proofs start from the checkpoint at `through`.
   */
  pruned: { through: number; kept: { seq: number; hash: string }[] } | null;
  /**
   * The links after the newest checkpoint up to the head, and the inclusion proof of the last
   * checkpointed event, whose hash the first link's prev_hash names. At a prune boundary the proof
   * is empty and the prune record's signed `last_hash` vouches for the hash. For a chain without
   * a checkpoint (`checkpoint_size` 0, e.g. the CLI's own chain of admin records), every link from
   * seq 1, which must start from the genesis hash.
   */
  tail: {
    checkpoint_size: number;
    last_checkpointed: { seq: number; hash: string; path: string[] } | null;
    links: EvidenceLink[];
  } | null;
}

export interface EvidenceSections {
  chains: EvidenceChain[];
  /** This store's anchor file at export time (the window's records and every pinned key). */
  anchors: { file: string | null; checkpoints: WitnessRecord[]; keys: AnchoredKey[] };
  /**
   * `pinned`: keys the anchors pinned (the roots of trust, unless the auditor gives `--keys`);
   * `announced`: keys a rotation announced; `keyring`: the data folder's keyring (informative:
   * whoever writes the store's folder can rewrite it); `signer`: the key that signed the bundle.
   */
  keys: { pinned: string[]; announced: string[]; keyring: string[]; signer: string | null };
  /** `tollgate verify --json` at export time. */
  verify: VerifyReport & { anchors: AnchorReport };
  /** Prune records (every one the chains hold, not only the window's). */
  prunes: EvidenceEvent[];
  /** Legal hold records (every one the chains hold) and the holds in force at export time. */
  holds: { records: EvidenceEvent[]; active: Record<string, unknown>[] };
  /** Administrative and dashboard events (http_method ADMIN) in the window. */
  access_log: EvidenceEvent[];
  /** The configuration in force at export, secrets removed. */
  config: Record<string, unknown>;
}

export interface EvidenceManifest {
  format: typeof EVIDENCE_FORMAT;
  created_at: string;
  /** The store identity (docs/reliability.md), as in the anchor file's name. */
  store_id: string;
  window: { since: string; until: string };
  /** Hex SHA-256 of each section's canonical JSON. */
  digests: Record<EvidenceSectionName, string>;
}

export interface EvidenceBundle {
  format: typeof EVIDENCE_FORMAT;
  manifest: EvidenceManifest;
  /** Signed note over the manifest digest; null when exported with `--unsigned`. */
  signature: string | null;
  sections: EvidenceSections;
}

/** Hex SHA-256 of the RFC 8785 canonical JSON of `value`. */
export function digestOf(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The digest of every section, in manifest order. */
export function sectionDigests(sections: EvidenceSections): Record<EvidenceSectionName, string> {
  const out = {} as Record<EvidenceSectionName, string>;
  for (const name of EVIDENCE_SECTIONS) out[name] = digestOf(sections[name]);
  return out;
}

/** The text a bundle's signature covers: format, store id, manifest digest, time. */
export function evidenceNoteText(manifest: EvidenceManifest): string {
  return `${EVIDENCE_FORMAT}\n${manifest.store_id}\n${digestOf(manifest)}\ntime ${manifest.created_at}\n`;
}

export function signEvidence(manifest: EvidenceManifest, signer: NoteSigner): string {
  return signNote(evidenceNoteText(manifest), [signer]);
}

/**
 * Opens a bundle's signature with `keys`: ok only when a trusted key signed it and its text is
 * the text of this manifest.
 */
export function openEvidenceSignature(
  signature: string,
  manifest: EvidenceManifest,
  keys: readonly NoteVerifier[],
): OpenedNote & { matches: boolean } {
  const opened = openNote(signature, keys);
  return { ...opened, matches: opened.text === evidenceNoteText(manifest) };
}

/** Which section an administrative event belongs to: prune and hold records, or the access log. */
export function evidenceSectionOf(e: AuditEvent): 'prunes' | 'holds' | 'access_log' {
  if (isPruneRecord(e) || isContentPruneRecord(e)) return 'prunes';
  // retention/hold-record.ts (a layer above this one): admin:hold.create, admin:hold.release.
  if (e.http_method === ADMIN_METHOD && /^admin:hold\./.test(e.endpoint ?? '')) return 'holds';
  return 'access_log';
}
