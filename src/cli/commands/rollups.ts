import type { Command } from 'commander';
import { TollgateError } from '../../core/errors.js';
import { isPruneRecord } from '../../integrity/prune-record.js';
import { adminEvents } from '../../integrity/prune-state.js';
import { configFor, globals, openStoreWithTables, println, type CliContext } from '../cli-context.js';

/**
 * `tollgate rollups rebuild`: recomputes the summaries the writer keeps at write time (session
 * summaries from the hour segments, auth-failure, redaction and provider quota rollups from the
 * events), for a store whose summaries came from an older version or are in doubt. Each runs in
 * one transaction; on SQLite a gateway writing meanwhile waits for it.
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
        // Rollups outlive pruned events (retention keeps the totals): rebuilt from what is left,
        // they would lose the pruned period. Refused, loudly, rather than silently shrunk.
        const pruned = (await adminEvents(s.opened.store)).filter(isPruneRecord).length;
        if (pruned > 0)
          throw new TollgateError('TG_ERR_USAGE', {
            reason: `this store was pruned by retention (${pruned} prune record(s)): rebuilding the summaries from the events left would lose the pruned period's totals`,
          });
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
