import type { Command } from 'commander';
import { configFor, globals, openStoreWithTables, println, type CliContext } from '../cli-context.js';

/**
 * `tollgate rollups rebuild`: recomputes the summaries the writer keeps at write time (session
 * summaries from the hour segments, auth-failure and redaction rollups from the events), for a
 * store whose summaries came from an older version or are in doubt. Each runs in one transaction;
 * on SQLite a gateway writing meanwhile waits for it.
 */
export function registerRollups(program: Command, ctx: CliContext): void {
  const rollups = program
    .command('rollups')
    .description('summary tables kept at write time for reports and the dashboard');
  rollups
    .command('rebuild')
    .description('recompute session summaries and security rollups from the stored data')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const s = await openStoreWithTables(configFor(ctx, g).db);
      try {
        const started = Date.now();
        const { sessions } = await s.tables.rebuildSummaries();
        const ms = Date.now() - started;
        println(
          ctx.stdout,
          g.json
            ? JSON.stringify({ sessions, ms })
            : `rebuilt the summaries of ${sessions} sessions and the security rollups in ${ms} ms`,
        );
      } finally {
        await s.close();
      }
    });
}
