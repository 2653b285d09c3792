import type { CheckpointStore, StoredCheckpoint } from '../checkpoint-store.js';
import { TollgateError } from '../../core/errors.js';
import type { SqliteDatabase } from './open-sqlite.js';
import { migrate } from './sqlite-event-store.js';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chain_id TEXT NOT NULL,
    tree_size INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    note TEXT NOT NULL,
    frontier TEXT
  );
  CREATE INDEX IF NOT EXISTS checkpoints_chain ON checkpoints(chain_id, tree_size);`,
];

interface Row {
  chain_id: string;
  tree_size: number;
  created_ms: number;
  note: string;
  frontier: string | null;
}

/** Signed checkpoints in a `checkpoints` table of the events database. */
export class SqliteCheckpointStore implements CheckpointStore {
  constructor(private readonly db: SqliteDatabase) {
    migrate(db, 'checkpoints', MIGRATIONS);
  }

  async append(cp: StoredCheckpoint): Promise<void> {
    try {
      this.db
        .prepare(
          'INSERT INTO checkpoints (chain_id, tree_size, created_ms, note, frontier) VALUES (?, ?, ?, ?, ?)',
        )
        .run(
          cp.chain_id,
          cp.tree_size,
          cp.created_ms,
          cp.note,
          cp.frontier ? JSON.stringify(cp.frontier) : null,
        );
    } catch (err) {
      throw new TollgateError(
        'TG_ERR_STORE_WRITE',
        { store: 'sqlite', table: 'checkpoints' },
        { cause: err },
      );
    }
  }

  async list(chainId: string): Promise<StoredCheckpoint[]> {
    const rows = this.db
      .prepare(
        'SELECT chain_id, tree_size, created_ms, note, frontier FROM checkpoints WHERE chain_id = ? ORDER BY id',
      )
      .all(chainId) as Row[];
    return rows.map(fromRow);
  }

  async latest(chainId: string): Promise<StoredCheckpoint | null> {
    const row = this.db
      .prepare(
        'SELECT chain_id, tree_size, created_ms, note, frontier FROM checkpoints WHERE chain_id = ? ORDER BY tree_size DESC, id DESC LIMIT 1',
      )
      .get(chainId) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  async chains(): Promise<string[]> {
    const rows = this.db.prepare('SELECT DISTINCT chain_id FROM checkpoints ORDER BY chain_id').all() as {
      chain_id: string;
    }[];
    return rows.map((r) => r.chain_id);
  }
}

function fromRow(r: Row): StoredCheckpoint {
  let frontier: string[] | null = null;
  if (r.frontier !== null) {
    try {
      const parsed = JSON.parse(r.frontier) as unknown;
      if (Array.isArray(parsed) && parsed.every((h) => typeof h === 'string')) frontier = parsed;
    } catch {
      // The frontier is an untrusted shortcut; without it the writer re-reads the chain.
    }
  }
  return { chain_id: r.chain_id, tree_size: r.tree_size, created_ms: r.created_ms, note: r.note, frontier };
}
