import type { Command } from 'commander';
import { TollgateError } from '../../core/errors.js';
import { formatAlertsJsonLines, formatAlertsTable } from '../../alerting/alert-format.js';
import { parseSeverity } from '../../alerting/alert.js';
import type { AlertFilter } from '../../alerting/alert-store.js';
import { recordCliAdminAction } from '../cli-admin-action.js';
import { systemClock } from '../../core/clock.js';
import { configFor, globals, openStoreWithTables, println, type CliContext } from '../cli-context.js';
import { parseTimeBound } from '../duration.js';

interface AlertsOptions {
  since?: string;
  severity?: string;
  rule?: string;
  limit?: string;
}

export function registerAlerts(program: Command, ctx: CliContext): void {
  const alerts = program
    .command('alerts')
    .description('alerts raised by the detectors, newest first, with their evidence')
    .option('--since <when>', 'alerts active since (e.g. 1h, 7d; default 7d)')
    .option('--severity <level>', 'this severity or higher: LOW, MEDIUM, HIGH, CRITICAL')
    .option('--rule <id>', 'only this rule (e.g. auth.repeated-failures)')
    .option('--limit <n>', 'at most n alerts (default 100)')
    .action(async (opts: AlertsOptions, cmd: Command) => {
      const g = globals(cmd);
      const filter: AlertFilter = {
        sinceMs: parseTimeBound(opts.since ?? '7d', ctx.now()),
        limit: Number(opts.limit ?? 100),
      };
      if (!Number.isInteger(filter.limit) || filter.limit! <= 0)
        throw new TollgateError('TG_ERR_USAGE', { option: 'limit' });
      if (opts.severity) {
        const s = parseSeverity(opts.severity);
        if (!s) throw new TollgateError('TG_ERR_USAGE', { option: 'severity' });
        filter.minSeverity = s;
      }
      if (opts.rule) filter.ruleId = opts.rule;
      const s = await openStoreWithTables(configFor(ctx, g).db);
      try {
        const alerts = await s.tables.alerts.list(filter);
        if (g.json) {
          const out = formatAlertsJsonLines(alerts);
          if (out) println(ctx.stdout, out.trimEnd());
        } else println(ctx.stdout, alerts.length ? formatAlertsTable(alerts) : 'no alerts match');
      } finally {
        await s.close();
      }
    });
  alerts
    .command('ack <id>')
    .description('acknowledge an alert (recorded in the audit trail; deliveries and counts are kept)')
    .option('--by <name>', 'who acknowledges (default cli)')
    .action(async (id: string, opts: { by?: string }, cmd: Command) => {
      const g = globals(cmd);
      const by = opts.by ?? 'cli';
      const s = await openStoreWithTables(configFor(ctx, g).db);
      try {
        const done = await s.tables.alerts.acknowledge(id, by, ctx.now());
        await recordCliAdminAction(
          s.opened.store,
          {
            action: 'admin:alerts.ack',
            actor: 'cli',
            subject: id,
            ok: done !== null,
            errorCode: done ? null : 'not_found',
          },
          systemClock,
        );
        if (!done) throw new TollgateError('TG_ERR_USAGE', { reason: 'no alert with this id', id });
        println(ctx.stdout, g.json ? JSON.stringify({ acknowledged: id, by }) : `acknowledged ${id}`);
      } finally {
        await s.close();
      }
    });
}
