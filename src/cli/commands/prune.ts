import type { Command } from 'commander';
import { loadOrCreateInstanceId } from '../../app/instance-id.js';
import { localPaths } from '../../app/local-paths.js';
import { systemClock } from '../../core/clock.js';
import { parseDurationMs } from '../../core/duration.js';
import { TollgateError } from '../../core/errors.js';
import { readKeyring } from '../../integrity/signing-key.js';
import { loadConfiguredSigningKey } from '../../integrity/signing-key-source.js';
import { appendAdminEvent } from '../../retention/append-admin-event.js';
import { pruneStore, type PruneResult } from '../../retention/prune.js';
import { CLI_ADMIN_CHAIN } from '../cli-admin-action.js';
import { configFor, globals, openExistingEventStore, println, type CliContext } from '../cli-context.js';
import { createProgress } from '../format/progress.js';
import { renderTable } from '../format/table.js';

interface PruneCliOptions {
  dryRun?: boolean;
  events?: string;
  content?: string;
  batch?: string;
}

export function registerPrune(program: Command, ctx: CliContext): void {
  program
    .command('prune')
    .description(
      'delete events past retention.events and replace content past retention.content by its digest, as signed prune records in the chain (verify still passes); held events are kept',
    )
    .option('--dry-run', 'show what would be pruned, change nothing')
    .option('--events <duration>', 'keep events this long (e.g. 400d; default: retention.events)')
    .option('--content <duration>', 'keep content this long (e.g. 30d; default: retention.content)')
    .option('--batch <n>', 'at most this many events per chain (default: retention.prune_batch)')
    .action(async (opts: PruneCliOptions, cmd: Command) => {
      const g = globals(cmd);
      const config = configFor(ctx, g);
      const duration = (v: string | undefined, option: string, fallback: number | null): number | null => {
        if (v === undefined) return fallback;
        const ms = parseDurationMs(v);
        if (ms === null || ms <= 0)
          throw new TollgateError('TG_ERR_USAGE', { option, reason: 'a duration such as 400d' });
        return ms;
      };
      const eventsMs = duration(opts.events, 'events', config.retention.events);
      const contentMs = duration(opts.content, 'content', config.retention.content);
      const batch = opts.batch === undefined ? config.retention.prune_batch : Number(opts.batch);
      if (!Number.isSafeInteger(batch) || batch < 1)
        throw new TollgateError('TG_ERR_USAGE', { option: 'batch' });
      if (eventsMs === null && contentMs === null)
        throw new TollgateError('TG_ERR_USAGE', {
          reason:
            'no retention configured: set retention.events / retention.content, or give --events / --content',
        });
      const paths = localPaths(config);
      const instanceId = config.instance_id ?? loadOrCreateInstanceId(paths.instanceId);
      const loaded = loadConfiguredSigningKey(config.checkpoints, {
        path: paths.signingKey,
        name: `tollgate-${instanceId}`,
      });
      const keys = [loaded.key.verifier(), ...readKeyring(loaded.keyPath)];
      const { store, checkpoints } = await openExistingEventStore(config.db);
      const progress = g.json
        ? null
        : createProgress(ctx.stderr, { label: 'pruning', unit: 'chains', now: ctx.now });
      let result: PruneResult;
      try {
        result = await pruneStore({
          events: store,
          checkpoints,
          signer: loaded.key,
          keys,
          policy: { eventsMs, contentMs, batch },
          clock: systemClock,
          record: (e) => appendAdminEvent(store, CLI_ADMIN_CHAIN, e),
          dryRun: opts.dryRun === true,
          holder: 'cli',
          onProgress: (done, total) => progress?.update(done, total),
        });
      } finally {
        progress?.end();
        await store.close();
      }
      if (g.json) println(ctx.stdout, JSON.stringify(result));
      else println(ctx.stdout, formatPruneResult(result));
    });
}

/** The people-first form of a prune: what was (or would be) pruned, per chain, and what was kept. */
export function formatPruneResult(r: PruneResult): string {
  const verb = r.dry_run ? 'would delete' : 'deleted';
  const lines: string[] = [];
  lines.push(
    `${r.dry_run ? 'dry run — nothing changed. ' : ''}events before ${r.events_cutoff ?? '(no events retention)'}; content before ${r.content_cutoff ?? '(no content retention)'}; ${r.holds_in_force} legal hold(s) in force`,
  );
  if (r.events.length > 0) {
    lines.push('');
    lines.push(
      renderTable(r.events, [
        { header: 'chain', value: (c) => c.chain_id },
        { header: 'seqs', value: (c) => `${c.first_seq}..${c.last_seq}` },
        { header: verb, value: (c) => c.deleted, align: 'right' },
        { header: 'kept (held)', value: (c) => c.held, align: 'right' },
        { header: 'kept (admin)', value: (c) => c.admin_kept, align: 'right' },
        { header: 'oldest', value: (c) => c.oldest ?? '—' },
        { header: 'newest', value: (c) => c.newest ?? '—' },
        {
          header: 'prune record',
          value: (c) =>
            c.finished
              ? `${c.record_event_id} (${r.dry_run ? 'would finish' : 'finished'}: stopped before its delete)`
              : (c.record_event_id ?? (r.dry_run ? '(dry run)' : '—')),
        },
      ]),
    );
  }
  if (r.content.length > 0) {
    lines.push('');
    lines.push(
      renderTable(r.content, [
        { header: 'chain', value: (c) => c.chain_id },
        { header: 'seqs', value: (c) => `${c.first_seq}..${c.last_seq}` },
        {
          header: r.dry_run ? 'content to digest' : 'content digested',
          value: (c) => c.pruned,
          align: 'right',
        },
        { header: 'kept (held)', value: (c) => c.held, align: 'right' },
        { header: 'prune record', value: (c) => c.record_event_id ?? (r.dry_run ? '(dry run)' : '—') },
      ]),
    );
  }
  for (const s of r.skipped) lines.push(`skipped chain ${s.chain_id}: ${s.why}`);
  lines.push('');
  lines.push(
    r.events.length === 0 && r.content.length === 0
      ? 'prune: nothing past retention (events are pruned up to a signed checkpoint; held events are kept)'
      : `prune: ${verb} ${r.deleted} event(s) in ${r.events.length} chain(s); ${r.dry_run ? 'would replace' : 'replaced'} the content of ${r.content_pruned} by its digest${r.dry_run ? '' : '; each range is a signed prune record in the chain (tollgate verify checks it)'}`,
  );
  return lines.join('\n');
}
