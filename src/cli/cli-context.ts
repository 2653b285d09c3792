import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, type TollgateConfig } from '../config/config.js';
import { TollgateError } from '../core/errors.js';
import { openSqlite } from '../store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../store/sqlite/sqlite-event-store.js';
import { isPostgresUrl, openEventStore, type OpenedEventStore } from '../store/open-event-store.js';

/** What every command may need: the environment (the CLI is the only reader of process.env) and output streams. */
export interface CliContext {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  now: () => number;
}

export interface GlobalOptions {
  db?: string;
  config?: string;
  json?: boolean;
}

/** Global options of a command (`--db`, `--config`, `--json`), wherever they were given. */
export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** The effective config for a command: file < env < `--db`. */
export function configFor(ctx: CliContext, opts: GlobalOptions, overrides: Record<string, unknown> = {}): TollgateConfig {
  return loadConfig({
    file: opts.config ?? null,
    env: ctx.env,
    overrides: { ...(opts.db ? { db: opts.db } : {}), ...overrides },
  });
}

/** Opens an existing SQLite store for a read command; a missing file is a clear error, not a new empty db. */
export function openExistingStore(dbPath: string): SqliteEventStore {
  if (isPostgresUrl(dbPath)) {
    throw new TollgateError('TG_ERR_STORE_OPEN', { reason: 'this command reads the SQLite store; with PostgreSQL, tollgate events and verify read it' });
  }
  if (dbPath !== ':memory:' && !existsSync(dbPath)) {
    throw new TollgateError('TG_ERR_STORE_OPEN', { path: dbPath, reason: 'no database at this path (run tollgate serve or tollgate demo first)' });
  }
  return new SqliteEventStore(openSqlite(dbPath));
}

/**
 * Opens an existing store of either kind for a read command (`--db` path or `postgres://` URL),
 * with its checkpoints. A missing SQLite file is a clear error, not a new empty database.
 */
export async function openExistingEventStore(dbSpec: string): Promise<OpenedEventStore> {
  if (!isPostgresUrl(dbSpec) && dbSpec !== ':memory:' && !existsSync(dbSpec)) {
    throw new TollgateError('TG_ERR_STORE_OPEN', { path: dbSpec, reason: 'no database at this path (run tollgate serve or tollgate demo first)' });
  }
  return openEventStore(dbSpec);
}

/** Writes one line. */
export function println(stream: NodeJS.WritableStream, s = ''): void {
  stream.write(`${s}\n`);
}
