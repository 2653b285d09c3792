/**
 * Witnesses: places outside the database where each checkpoint is also written, so that whoever
 * can rewrite the database cannot rewrite what the witnesses hold (an append-only file on another
 * volume or owned by another user, or an HTTP endpoint such as a log collector).
 */
import { appendFile, readFile } from 'node:fs/promises';
import { TollgateError } from '../core/errors.js';
import type { StoredCheckpoint } from '../store/checkpoint-store.js';

export interface Witness {
  /** For error reports; never a URL with credentials in it. */
  readonly name: string;
  submit(checkpoint: StoredCheckpoint): Promise<void>;
}

/** One line of a witness file. */
export interface WitnessRecord {
  chain_id: string;
  tree_size: number;
  created_ms: number;
  note: string;
}

/**
 * Appends each checkpoint as one JSON line (`{chain_id, tree_size, created_ms, note}`) to a file
 * opened in append mode. Make the file append-only for the database owner (`chattr +a`, another
 * owner, or a remote mount) for it to be a witness in the strong sense.
 */
export class FileWitness implements Witness {
  readonly name: string;
  constructor(private readonly path: string) {
    this.name = 'file';
  }

  async submit(cp: StoredCheckpoint): Promise<void> {
    const record: WitnessRecord = {
      chain_id: cp.chain_id,
      tree_size: cp.tree_size,
      created_ms: cp.created_ms,
      note: cp.note,
    };
    try {
      await appendFile(this.path, JSON.stringify(record) + '\n', { flag: 'a', mode: 0o644 });
    } catch (err) {
      throw new TollgateError('TG_ERR_INTEGRITY_WITNESS', { witness: this.name }, { cause: err });
    }
  }
}

/** Reads the checkpoint notes of a witness file; lines that do not parse are skipped. */
export async function readWitnessFile(path: string): Promise<WitnessRecord[]> {
  const text = await readFile(path, 'utf8');
  const out: WitnessRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as Partial<WitnessRecord>;
      if (typeof r.chain_id === 'string' && typeof r.note === 'string' && typeof r.tree_size === 'number') {
        out.push({
          chain_id: r.chain_id,
          tree_size: r.tree_size,
          created_ms: typeof r.created_ms === 'number' ? r.created_ms : 0,
          note: r.note,
        });
      }
    } catch {
      // A torn last line (crash mid-write) is not a checkpoint; the signed notes decide the rest.
    }
  }
  return out;
}

/** POSTs each checkpoint note (text/plain; the signed note as is) to a URL. Any non-2xx is an error. */
export class HttpWitness implements Witness {
  readonly name = 'http';
  constructor(
    private readonly url: string,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly timeoutMs = 5000,
  ) {}

  async submit(cp: StoredCheckpoint): Promise<void> {
    let res: Response;
    try {
      res = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8', 'x-tollgate-chain': cp.chain_id },
        body: cp.note,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.arrayBuffer();
    } catch (err) {
      throw new TollgateError('TG_ERR_INTEGRITY_WITNESS', { witness: this.name }, { cause: err });
    }
    if (res.status < 200 || res.status > 299)
      throw new TollgateError('TG_ERR_INTEGRITY_WITNESS', { witness: this.name, status: res.status });
  }
}
