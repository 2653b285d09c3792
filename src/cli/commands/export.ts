import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { TollgateError } from '../../core/errors.js';
import { exportEvents } from '../../export/export-events.js';
import { configFor, globals, openExistingEventStore, type CliContext } from '../cli-context.js';
import { parseTimeBound } from '../duration.js';
import { createProgress } from '../format/progress.js';

interface ExportOptions {
  format?: string;
  since?: string;
  until?: string;
  out?: string;
}

export function registerExport(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description('write events as JSONL (for a SIEM) or CSV (for a spreadsheet), oldest first')
    .requiredOption('--since <when>', 'events at or after (e.g. 1h, 30d, 2026-11-01)')
    .option('--until <when>', 'events before (default: now)')
    .option('--format <format>', 'jsonl (default) or csv')
    .option('--out <file>', 'write to this file (mode 0600) instead of stdout')
    .action(async (opts: ExportOptions, cmd: Command) => {
      const format = (opts.format ?? 'jsonl').toLowerCase();
      if (format !== 'jsonl' && format !== 'csv')
        throw new TollgateError('TG_ERR_USAGE', { option: 'format' });
      const now = ctx.now();
      const sinceMs = parseTimeBound(opts.since ?? '', now);
      const untilMs = opts.until ? parseTimeBound(opts.until, now) : now + 1;
      const config = configFor(ctx, globals(cmd));
      const { store } = await openExistingEventStore(config.db);
      // The count so far on a terminal (stderr; the events go to stdout or --out).
      const progress = createProgress(ctx.stderr, { label: 'exported', now: ctx.now });
      const file = opts.out ? createWriteStream(opts.out, { mode: 0o600 }) : null;
      try {
        const n = await exportEvents(store, file ?? ctx.stdout, {
          format,
          sinceMs,
          untilMs,
          onProgress: (n) => progress.update(n),
        });
        if (file) {
          file.end();
          await finished(file);
        }
        progress.end(`exported ${n.toLocaleString('en-US')} events`);
      } finally {
        file?.destroy();
        await store.close();
      }
    });
}
