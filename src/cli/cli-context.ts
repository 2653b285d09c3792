import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, type TollgateConfig } from '../config/config.js';
import { TollgateError } from '../core/errors.js';
import { isPostgresUrl, openEventStore, type OpenedEventStore } from '../store/open-event-store.js';
import { openStoreTables, type StoreTables } from '../store/store-tables.js';

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
export function configFor(
  ctx: CliContext,
  opts: GlobalOptions,
  overrides: Record<string, unknown> = {},
): TollgateConfig {
  return loadConfig({
    file: opts.config ?? null,
    env: ctx.env,
    overrides: { ...(opts.db ? { db: opts.db } : {}), ...overrides },
  });
}

/**
 * Opens an existing store of either kind for a read command (`--db` path or `postgres://` URL),
 * with its checkpoints. A missing SQLite file is a clear error, not a new empty database.
 */
export async function openExistingEventStore(dbSpec: string): Promise<OpenedEventStore> {
  if (!isPostgresUrl(dbSpec) && dbSpec !== ':memory:' && !existsSync(dbSpec)) {
    throw new TollgateError('TG_ERR_STORE_OPEN', {
      path: dbSpec,
      reason: 'no database at this path (run tollgate serve or tollgate demo first)',
    });
  }
  return openEventStore(dbSpec);
}

/** An opened store (either kind) with the tables kept beside its events. */
export interface StoreWithTables {
  opened: OpenedEventStore;
  tables: StoreTables;
  /** Closes the tables, then the event store. */
  close(): Promise<void>;
}

/**
 * Opens the store a command works on, with its alerts, keys, data keys and rollups: a SQLite path
 * or a `postgres://` URL (`--db` or TOLLGATE_DB). `create: true` (e.g. `keys create` before the
 * first `serve`) makes a missing SQLite file; otherwise a missing file is a clear error.
 */
export async function openStoreWithTables(
  dbSpec: string,
  options: { create?: boolean } = {},
): Promise<StoreWithTables> {
  const opened = options.create ? await openEventStore(dbSpec) : await openExistingEventStore(dbSpec);
  let tables: StoreTables;
  try {
    tables = await openStoreTables(opened);
  } catch (err) {
    await opened.store.close();
    throw err;
  }
  return {
    opened,
    tables,
    async close() {
      await tables.close();
      await opened.store.close();
    },
  };
}

/** Writes one line. */
export function println(stream: NodeJS.WritableStream, s = ''): void {
  stream.write(`${s}\n`);
}
