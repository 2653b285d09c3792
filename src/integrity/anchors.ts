/**
 * Anchors: copies of every signed checkpoint kept outside the store, so that whoever can rewrite
 * the database (events, checkpoints, the keyring beside it) cannot rewrite what vouches for it.
 *
 * The anchor file is a witness file (witness.ts: one JSON line per checkpoint) in a folder of its
 * own, created 0700 with the file 0600, one file per store (`checkpoints-<store id>.jsonl`, the
 * store id of chain-state-files.ts). It also pins the first verifier key of each signer name
 * (`{"kind":"key",...}` lines): a checkpoint in the store signed by a key the anchors never saw,
 * and that no anchored key announced (rotation, checkpoint.ts `key` lines), means the signing key
 * was replaced. Default folder: `tollgate-anchors` beside the data folder (docs/integrity.md).
 */
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TollgateError } from '../core/errors.js';
import type { StoredCheckpoint } from '../store/checkpoint-store.js';
import { parseVerifierKey } from './signed-note.js';
import type { Witness, WitnessRecord } from './witness.js';

/** Default anchor folder for a data folder: a sibling, so it is never inside the store's folder. */
export function defaultAnchorDir(dataDir: string): string {
  return join(dirname(dataDir), 'tollgate-anchors');
}

/** The anchor file of one store in an anchor folder. */
export function anchorFilePath(anchorDir: string, storeId: string): string {
  return join(anchorDir, `checkpoints-${storeId}.jsonl`);
}

/** A verifier key pinned in an anchor file. */
export interface AnchoredKey {
  verifier_key: string;
  /** When it was pinned (epoch ms). */
  at_ms: number;
}

/** What an anchor file holds. */
export interface AnchorContents {
  path: string;
  checkpoints: WitnessRecord[];
  keys: AnchoredKey[];
}

/**
 * Appends checkpoints and pinned keys to one store's anchor file. Creates the folder 0700 and the
 * file 0600 (an existing folder keeps the mode its owner gave it: it may be shared with a log
 * shipper's group, or made append-only with `chattr +a`).
 */
export class AnchorFile implements Witness {
  readonly name = 'anchor-file';
  constructor(readonly path: string) {}

  /** Creates the folder and file when missing; throws TG_ERR_INTEGRITY_WITNESS when it cannot. */
  ensure(): void {
    try {
      const dir = dirname(this.path);
      if (!existsSync(dir)) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        chmodSync(dir, 0o700);
      }
      if (!existsSync(this.path)) appendFileSync(this.path, '', { mode: 0o600 });
    } catch (err) {
      throw new TollgateError('TG_ERR_INTEGRITY_WITNESS', { witness: this.name }, { cause: err });
    }
  }

  submit(cp: StoredCheckpoint): Promise<void> {
    const record = {
      kind: 'checkpoint',
      chain_id: cp.chain_id,
      tree_size: cp.tree_size,
      created_ms: cp.created_ms,
      note: cp.note,
    };
    this.append(record);
    return Promise.resolve();
  }

  /**
   * Pins a verifier key unless one of the same signer name is pinned already. Returns whether the
   * key is (now) pinned: false means the anchors know another key by this name, which only a
   * rotation announced by the pinned key may bring in.
   */
  pinKey(verifierKey: string, nowMs: number): boolean {
    const name = parseVerifierKey(verifierKey).name;
    const pinned = existsSync(this.path) ? readAnchorFile(this.path).keys : [];
    const same = pinned.filter((k) => keyName(k.verifier_key) === name);
    if (same.some((k) => k.verifier_key === verifierKey)) return true;
    if (same.length > 0) return false;
    this.append({ kind: 'key', verifier_key: verifierKey, at_ms: nowMs });
    return true;
  }

  /** Records a key announced by a rotation checkpoint (that checkpoint is anchored as well). */
  recordRotation(verifierKey: string, nowMs: number): void {
    this.append({ kind: 'key', verifier_key: verifierKey, at_ms: nowMs, announced: true });
  }

  private append(record: Record<string, unknown>): void {
    try {
      // 'a' with mode 0600: the mode applies when the file is created here.
      appendFileSync(this.path, JSON.stringify(record) + '\n', { flag: 'a', mode: 0o600 });
    } catch (err) {
      throw new TollgateError('TG_ERR_INTEGRITY_WITNESS', { witness: this.name }, { cause: err });
    }
  }
}

function keyName(verifierKey: string): string | null {
  try {
    return parseVerifierKey(verifierKey).name;
  } catch {
    return null;
  }
}

/** Reads an anchor file (or any witness file); a torn or foreign line is skipped. */
export function readAnchorFile(path: string): AnchorContents {
  const out: AnchorContents = { path, checkpoints: [], keys: [] };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a torn last line (crash mid-write): the signed notes decide the rest
    }
    if (r === null || typeof r !== 'object') continue;
    if (r.kind === 'key' && typeof r.verifier_key === 'string' && keyName(r.verifier_key) !== null) {
      out.keys.push({ verifier_key: r.verifier_key, at_ms: typeof r.at_ms === 'number' ? r.at_ms : 0 });
    } else if (
      typeof r.chain_id === 'string' &&
      typeof r.note === 'string' &&
      typeof r.tree_size === 'number'
    ) {
      out.checkpoints.push({
        chain_id: r.chain_id,
        tree_size: r.tree_size,
        created_ms: typeof r.created_ms === 'number' ? r.created_ms : 0,
        note: r.note,
      });
    }
  }
  return out;
}

/** Mode problems of an anchor folder and file (group or others may write or read them). */
export function anchorModeProblems(path: string): string[] {
  if (process.platform === 'win32') return [];
  const problems: string[] = [];
  const dir = dirname(path);
  if (existsSync(dir) && (statSync(dir).mode & 0o022) !== 0)
    problems.push(`${dir} is writable by group or others`);
  if (existsSync(path) && (statSync(path).mode & 0o022) !== 0)
    problems.push(`${path} is writable by group or others`);
  return problems;
}

/**
 * Writes each checkpoint to the structured log as one line whose top-level fields are those of a
 * witness file line (`chain_id`, `tree_size`, `created_ms`, `note`), so a shipped log file can be
 * given to `tollgate verify --witness` as it is.
 */
export class LogWitness implements Witness {
  readonly name = 'log';
  constructor(private readonly write: (fields: Record<string, unknown>, msg: string) => void) {}

  submit(cp: StoredCheckpoint): Promise<void> {
    this.write(
      {
        anchor: 'checkpoint',
        chain_id: cp.chain_id,
        tree_size: cp.tree_size,
        created_ms: cp.created_ms,
        note: cp.note,
      },
      'checkpoint anchored',
    );
    return Promise.resolve();
  }
}
