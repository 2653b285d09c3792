import type { Command } from 'commander';
import { TollgateError } from '../../core/errors.js';
import {
  COST_REPORT_BY,
  costReport,
  formatCostCsv,
  formatCostJson,
  formatCostTable,
  SESSION_ROWS_DEFAULT,
  type CostReportBy,
} from '../../reports/cost-report.js';
import { decodeSessionCursor } from '../../store/rollups.js';
import {
  formatSecurityReportJson,
  formatSecurityReportTable,
  securityReport,
} from '../../reports/security-report.js';
import { configFor, globals, openStoreWithTables, println, type CliContext } from '../cli-context.js';
import { parseTimeBound } from '../duration.js';

interface CostOptions {
  by?: string;
  since?: string;
  until?: string;
  csv?: boolean;
  top?: string;
  limit?: string;
  after?: string;
}

export function registerReport(program: Command, ctx: CliContext): void {
  const report = program.command('report').description('reports over the audit trail (cost, security)');
  report
    .command('cost')
    .description(
      'spend and tokens grouped by one dimension, read from rollups (unpriced and estimated kept apart)',
    )
    .option('--by <dimension>', `group by ${COST_REPORT_BY.join('|')} (default user)`)
    .option('--since <when>', 'start (e.g. 24h, 30d, 2026-11-01; default 30d)')
    .option('--until <when>', 'end (default now)')
    .option('--csv', 'CSV for spreadsheets')
    .option(
      '--top <n>',
      `--by session: the n sessions of highest cost in the window, then a line "N more sessions" with the next page's cursor (default ${SESSION_ROWS_DEFAULT}; TOTAL is always the whole window)`,
    )
    .option('--limit <n>', 'the same as --top')
    .option(
      '--after <cursor>',
      '--by session: the page after this cursor (printed with the previous page; JSON: sessions.next_cursor)',
    )
    .action(async (opts: CostOptions, cmd: Command) => {
      const g = globals(cmd);
      const by = (opts.by ?? 'user') as CostReportBy;
      if (!COST_REPORT_BY.includes(by)) throw new TollgateError('TG_ERR_USAGE', { option: 'by' });
      const topText = opts.top ?? opts.limit;
      if ((topText !== undefined || opts.after !== undefined) && by !== 'session')
        throw new TollgateError('TG_ERR_USAGE', { option: topText !== undefined ? 'top' : 'after' });
      const limit = topText === undefined ? SESSION_ROWS_DEFAULT : Number(topText);
      if (!/^\d+$/.test(topText ?? '1') || !Number.isSafeInteger(limit) || limit <= 0)
        throw new TollgateError('TG_ERR_USAGE', { option: 'top' });
      const after = opts.after === undefined ? null : decodeSessionCursor(opts.after.trim());
      if (opts.after !== undefined && !after) throw new TollgateError('TG_ERR_USAGE', { option: 'after' });
      const now = ctx.now();
      const sinceMs = parseTimeBound(opts.since ?? '30d', now);
      const untilMs = opts.until ? parseTimeBound(opts.until, now) : now;
      const s = await openStoreWithTables(configFor(ctx, g).db);
      try {
        const r = await costReport(s.tables.rollups, { by, sinceMs, untilMs, limit, after });
        println(
          ctx.stdout,
          g.json ? formatCostJson(r) : opts.csv ? formatCostCsv(r).trimEnd() : formatCostTable(r),
        );
        // CSV stays one table: where the page lies goes to stderr (JSON has it in `sessions`).
        if (opts.csv && !g.json && r.sessions && r.sessions.more > 0)
          println(
            ctx.stderr,
            `${r.sessions.more.toLocaleString('en-US')} more sessions: next page with --after ${r.sessions.next_cursor}`,
          );
      } finally {
        await s.close();
      }
    });
  report
    .command('security')
    .description(
      'auth failures by key and IP, alerts by rule and severity, error rates, redaction hits, top offenders, anomalous sessions (read from rollups), provider quota per provider key (from the newest 20,000 events)',
    )
    .option(
      '--since <when>',
      'start (e.g. 1h, 7d; default 24h); the window is aligned outward to whole hours',
    )
    .option('--until <when>', 'end (default now)')
    .option('--top <n>', 'rows per ranked list (default 10)')
    .action(async (opts: { since?: string; until?: string; top?: string }, cmd: Command) => {
      const g = globals(cmd);
      const now = ctx.now();
      const sinceMs = parseTimeBound(opts.since ?? '24h', now);
      const untilMs = opts.until ? parseTimeBound(opts.until, now) : now + 1;
      const top = opts.top === undefined ? 10 : Number(opts.top);
      if (!Number.isInteger(top) || top <= 0) throw new TollgateError('TG_ERR_USAGE', { option: 'top' });
      const s = await openStoreWithTables(configFor(ctx, g).db);
      try {
        const r = await securityReport(
          { rollups: s.tables.rollups, alerts: s.tables.alerts },
          { sinceMs, untilMs, top },
        );
        println(ctx.stdout, g.json ? formatSecurityReportJson(r) : formatSecurityReportTable(r));
      } finally {
        await s.close();
      }
    });
}
