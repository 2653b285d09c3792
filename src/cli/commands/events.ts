import type { Command } from 'commander';
import type { AuditEvent, EventStatus } from '../../core/audit-event.js';
import { EVENT_STATUSES } from '../../core/audit-event.js';
import { TollgateError } from '../../core/errors.js';
import type { EventFilter, EventStore } from '../../store/event-store.js';
import { configFor, globals, openExistingEventStore, println, type CliContext } from '../cli-context.js';
import { parseTimeBound } from '../duration.js';
import { colourer, formatUsd, renderTable, type Column } from '../format/table.js';

interface EventsOptions {
  since?: string;
  until?: string;
  user?: string;
  session?: string;
  feature?: string;
  key?: string;
  status?: string;
  model?: string;
  limit?: string;
  follow?: boolean;
}

export function registerEvents(program: Command, ctx: CliContext): void {
  program
    .command('events')
    .description('list audit events, newest first (--follow tails new ones)')
    .option('--since <when>', 'only events at or after (e.g. 1h, 30d, 2026-11-01)')
    .option('--until <when>', 'only events before')
    .option('--user <id>', 'only this user')
    .option('--session <id>', 'only this session')
    .option('--feature <name>', 'only this feature')
    .option('--key <id>', 'only this key (fingerprint, prefix or virtual key id)')
    .option('--status <status>', `only this status (${EVENT_STATUSES.join(', ')})`)
    .option('--model <model>', 'only this model (requested or used)')
    .option('--limit <n>', 'at most n events (default 50)')
    .option('-f, --follow', 'keep printing new events as they are written')
    .action(async (opts: EventsOptions, cmd: Command) => {
      const g = globals(cmd);
      const config = configFor(ctx, g);
      const filter = buildFilter(opts, ctx.now());
      const { store } = await openExistingEventStore(config.db);
      try {
        const print = printer(ctx, g.json === true, opts.follow === true);
        if (!opts.follow) {
          const events = await store.query(filter);
          print(events, true);
          return;
        }
        await follow(store, filter, print);
      } finally {
        await store.close();
      }
    });
}

function buildFilter(opts: EventsOptions, now: number): EventFilter {
  const f: EventFilter = {};
  if (opts.since) f.sinceMs = parseTimeBound(opts.since, now);
  if (opts.until) f.untilMs = parseTimeBound(opts.until, now);
  if (opts.user) f.user = opts.user;
  if (opts.session) f.session = opts.session;
  if (opts.feature) f.feature = opts.feature;
  if (opts.key) f.key = opts.key;
  if (opts.model) f.model = opts.model;
  if (opts.status) {
    const s = opts.status.toUpperCase();
    if (!(EVENT_STATUSES as readonly string[]).includes(s))
      throw new TollgateError('TG_ERR_USAGE', { option: 'status' });
    f.status = s as EventStatus;
  }
  const limit = opts.limit === undefined ? 50 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit <= 0) throw new TollgateError('TG_ERR_USAGE', { option: 'limit' });
  f.limit = limit;
  return f;
}

/** Tails the store: prints the last few, then everything written after them, oldest first. */
async function follow(
  store: EventStore,
  filter: EventFilter,
  print: (events: AuditEvent[], header: boolean) => void,
): Promise<void> {
  const recent = await store.query({ ...filter, limit: Math.min(filter.limit ?? 10, 10) });
  print(recent.reverse(), true);
  let cursor = await store.cursor();
  let stopped = false;
  process.once('SIGINT', () => (stopped = true));
  while (!stopped) {
    await new Promise((r) => setTimeout(r, 500));
    const fresh = await store.query({ ...filter, afterCursor: cursor, order: 'asc', limit: 1000 });
    if (fresh.length) {
      print(fresh, false);
      cursor = await store.cursor();
    }
  }
}

function printer(
  ctx: CliContext,
  json: boolean,
  follow: boolean,
): (events: AuditEvent[], header: boolean) => void {
  const c = colourer(ctx.stdout.isTTY === true && !ctx.env.NO_COLOR);
  return (events, header) => {
    if (json) {
      for (const e of events) println(ctx.stdout, JSON.stringify(e));
      return;
    }
    if (events.length === 0) {
      if (header) println(ctx.stdout, 'no events match');
      return;
    }
    for (const line of eventLines(events, { header, follow })) {
      const coloured = /\b(AUTH_FAILED|SERVER_ERROR|TIMEOUT|BLOCKED)\b/.test(line)
        ? c('red', line)
        : /\b(RATE_LIMITED|CLIENT_ERROR|CANCELLED)\b/.test(line)
          ? c('yellow', line)
          : line;
      println(ctx.stdout, coloured);
    }
  };
}

/**
 * The table lines of a batch of events: with `header`, the header and rule first. With `follow`,
 * batches printed one after another line up under the first batch's header.
 */
export function eventLines(events: readonly AuditEvent[], o: { header: boolean; follow: boolean }): string[] {
  const lines = renderTable(events, o.follow ? fixedWidths(EVENT_COLUMNS) : EVENT_COLUMNS).split('\n');
  return o.header ? lines : lines.slice(2);
}

/**
 * With --follow the table is printed batch by batch: every column gets a fixed width (its cap,
 * or what its values can reach), so rows printed later line up under the first header.
 */
function fixedWidths(columns: readonly Column<AuditEvent>[]): Column<AuditEvent>[] {
  return columns.map((col) => {
    const width = col.max ?? FOLLOW_WIDTHS[col.header] ?? col.header.length;
    return { ...col, width, max: width };
  });
}

const FOLLOW_WIDTHS: Record<string, number> = {
  time: 19,
  status: 12,
  http: 4,
  key: 8,
  in: 7,
  out: 7,
  cost: 10,
  ms: 6,
  id: 36,
};

const EVENT_COLUMNS: Column<AuditEvent>[] = [
  { header: 'time', value: (e) => e.timestamp.replace('T', ' ').slice(0, 19) },
  { header: 'status', value: (e) => e.status },
  { header: 'http', value: (e) => e.http_status_code, align: 'right' },
  { header: 'model', value: (e) => e.model_used ?? e.model_requested, max: 28 },
  { header: 'user', value: (e) => e.user_id, max: 16 },
  { header: 'session', value: (e) => e.session_id, max: 14 },
  { header: 'feature', value: (e) => e.feature_name, max: 14 },
  { header: 'key', value: (e) => e.api_key_prefix },
  { header: 'in', value: (e) => e.input_tokens, align: 'right' },
  { header: 'out', value: (e) => e.output_tokens, align: 'right' },
  { header: 'cost', value: (e) => formatUsd(e.cost_micro_usd), align: 'right' },
  {
    header: 'ms',
    value: (e) => (e.latency_ms === null ? null : Math.round(e.latency_ms)),
    align: 'right',
  },
  {
    header: 'flags',
    value: (e) => [...e.threat_indicators, ...e.redactions.map((r) => `redacted:${r.type}`)].join(','),
    max: 40,
  },
  { header: 'id', value: (e) => e.id },
];
