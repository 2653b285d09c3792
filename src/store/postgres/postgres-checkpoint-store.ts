import type pg from 'pg';
import type { CheckpointStore, StoredCheckpoint } from '../checkpoint-store.js';
import { TollgateError } from '../../core/errors.js';
import { migratePostgres, schemaIdent } from './postgres-migrate.js';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE {schema}.checkpoints (
     id bigserial PRIMARY KEY,
     chain_id text NOT NULL,
     tree_size bigint NOT NULL,
     created_ms bigint NOT NULL,
     note text NOT NULL,
     frontier jsonb
   );
   CREATE INDEX checkpoints_chain ON {schema}.checkpoints (chain_id, tree_size);`,
];

interface Row {
  chain_id: string;
  tree_size: string;
  created_ms: string;
  note: string;
  frontier: unknown;
}

/**
 * Signed checkpoints in PostgreSQL, beside the events, so `tollgate verify` run anywhere sees the
 * checkpoints of every replica's chain. The migration starts at construction; every call waits
 * for it (a failed migration fails each call with TG_ERR_STORE_OPEN).
 */
export class PostgresCheckpointStore implements CheckpointStore {
  private readonly s: string;
  private readonly ready: Promise<void>;

  constructor(
    private readonly pool: pg.Pool,
    schema = 'tollgate',
  ) {
    this.s = schemaIdent(schema);
    this.ready = migratePostgres(pool, schema, 'checkpoints', MIGRATIONS);
    this.ready.catch(() => undefined); // observed by each call; not an unhandled rejection meanwhile
  }

  /** Resolves once the table exists (or rejects with the migration's error). */
  opened(): Promise<void> {
    return this.ready;
  }

  async append(cp: StoredCheckpoint): Promise<void> {
    await this.ready;
    try {
      await this.pool.query(
        `INSERT INTO ${this.s}.checkpoints (chain_id, tree_size, created_ms, note, frontier) VALUES ($1, $2, $3, $4, $5)`,
        [cp.chain_id, cp.tree_size, cp.created_ms, cp.note, cp.frontier ? JSON.stringify(cp.frontier) : null],
      );
    } catch (err) {
      throw new TollgateError(
        'TG_ERR_STORE_WRITE',
        { store: 'postgres', table: 'checkpoints' },
        { cause: err },
      );
    }
  }

  async list(chainId: string): Promise<StoredCheckpoint[]> {
    await this.ready;
    const res = await this.pool.query<Row>(
      `SELECT chain_id, tree_size, created_ms, note, frontier FROM ${this.s}.checkpoints WHERE chain_id = $1 ORDER BY id`,
      [chainId],
    );
    return res.rows.map(fromRow);
  }

  async latest(chainId: string): Promise<StoredCheckpoint | null> {
    await this.ready;
    const res = await this.pool.query<Row>(
      `SELECT chain_id, tree_size, created_ms, note, frontier FROM ${this.s}.checkpoints WHERE chain_id = $1 ORDER BY tree_size DESC, id DESC LIMIT 1`,
      [chainId],
    );
    return res.rows[0] ? fromRow(res.rows[0]) : null;
  }

  async chains(): Promise<string[]> {
    await this.ready;
    const res = await this.pool.query<{ chain_id: string }>(
      `SELECT chain_id FROM ${this.s}.checkpoints GROUP BY chain_id ORDER BY chain_id COLLATE "C"`,
    );
    return res.rows.map((r) => r.chain_id);
  }
}

function fromRow(r: Row): StoredCheckpoint {
  // The frontier is an untrusted shortcut (checked against the signed root before use); a
  // malformed one is dropped and the writer re-reads the chain.
  const f = r.frontier;
  const frontier = Array.isArray(f) && f.every((h) => typeof h === 'string') ? f : null;
  return {
    chain_id: r.chain_id,
    tree_size: Number(r.tree_size),
    created_ms: Number(r.created_ms),
    note: r.note,
    frontier,
  };
}
