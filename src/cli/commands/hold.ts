import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { describeHoldScope } from '../../retention/hold-record.js';
import { createHold, listHolds, releaseHold } from '../../retention/holds.js';
import { CLI_ADMIN_CHAIN } from '../cli-admin-action.js';
import { configFor, globals, openExistingEventStore, println, type CliContext } from '../cli-context.js';
import { renderTable } from '../format/table.js';

interface CreateOptions {
  user?: string;
  session?: string;
  key?: string;
  since?: string;
  until?: string;
  reason: string;
}

/** An ISO time from `2026-01-31` or any Date.parse form; the text as given when it does not parse (refused later). */
function isoTime(v: string | undefined): string | null {
  if (v === undefined) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? v : new Date(t).toISOString();
}

export function registerHold(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('hold')
    .description(
      'legal holds: held events and content are never pruned or erased; placing and releasing a hold are audit events in the chain',
    );

  cmd
    .command('create')
    .description(
      'place a hold on a user, a session, a key and/or a time range (all given conditions must match)',
    )
    .option('--user <id>', 'events of this user id')
    .option('--session <id>', 'events of this session id')
    .option('--key <id>', 'events of this key (api_key_id, key prefix or virtual key id)')
    .option('--since <time>', 'events from this time (ISO-8601, e.g. 2026-01-01)')
    .option('--until <time>', 'events before this time')
    .requiredOption('--reason <text>', 'why (a case number): recorded with the hold')
    .action(async (opts: CreateOptions, sub: Command) => {
      const g = globals(sub);
      const { store } = await openExistingEventStore(configFor(ctx, g).db);
      try {
        const hold = await createHold(
          store,
          CLI_ADMIN_CHAIN,
          {
            user: opts.user ?? null,
            session: opts.session ?? null,
            key: opts.key ?? null,
            since: isoTime(opts.since),
            until: isoTime(opts.until),
          },
          opts.reason,
          'cli',
          systemClock,
        );
        if (g.json) println(ctx.stdout, JSON.stringify(hold));
        else {
          println(ctx.stdout, `legal hold ${hold.id} placed on ${describeHoldScope(hold)}: ${hold.reason}`);
          println(
            ctx.stdout,
            `recorded as event ${hold.created_event_id}; these events and their content are not pruned or erased until \`tollgate hold release ${hold.id}\``,
          );
        }
      } finally {
        await store.close();
      }
    });

  cmd
    .command('list')
    .description('holds in force (with --all, released ones too)')
    .option('--all', 'released holds too')
    .action(async (opts: { all?: boolean }, sub: Command) => {
      const g = globals(sub);
      const { store } = await openExistingEventStore(configFor(ctx, g).db);
      try {
        const holds = (await listHolds(store)).filter((h) => opts.all === true || h.released_at === null);
        if (g.json) return println(ctx.stdout, JSON.stringify(holds));
        if (holds.length === 0) return println(ctx.stdout, 'no legal hold in force');
        println(
          ctx.stdout,
          renderTable(holds, [
            { header: 'hold', value: (h) => h.id },
            { header: 'covers', value: (h) => describeHoldScope(h), max: 60 },
            { header: 'reason', value: (h) => h.reason, max: 50 },
            { header: 'placed', value: (h) => h.created_at },
            { header: 'released', value: (h) => h.released_at ?? 'in force' },
          ]),
        );
      } finally {
        await store.close();
      }
    });

  cmd
    .command('release')
    .description('release a hold: its events are pruned again by retention')
    .argument('<id>', 'the hold id (tollgate hold list)')
    .option('--reason <text>', 'why it was released')
    .action(async (id: string, opts: { reason?: string }, sub: Command) => {
      const g = globals(sub);
      const { store } = await openExistingEventStore(configFor(ctx, g).db);
      try {
        const { hold, event } = await releaseHold(
          store,
          CLI_ADMIN_CHAIN,
          id,
          opts.reason ?? null,
          'cli',
          systemClock,
        );
        if (g.json) println(ctx.stdout, JSON.stringify({ id: hold.id, released_event_id: event.id }));
        else
          println(
            ctx.stdout,
            `legal hold ${hold.id} (${describeHoldScope(hold)}) released; recorded as event ${event.id}`,
          );
      } finally {
        await store.close();
      }
    });
}
