import type { Command } from 'commander';
import { recordCliAdminAction } from '../cli-admin-action.js';
import { systemClock } from '../../core/clock.js';
import { isTollgateError, TollgateError } from '../../core/errors.js';
import {
  createKey,
  keyStatus,
  updateKey,
  type BudgetPeriod,
  type CreateKeyInput,
  type KeyChanges,
} from '../../access/virtual-keys.js';
import { configFor, globals, openStoreWithTables, println, type CliContext } from '../cli-context.js';
import { formatUsd, renderTable } from '../format/table.js';

interface CreateOptions {
  name: string;
  user?: string;
  team?: string;
  models?: string;
  rpm?: string;
  tpm?: string;
  concurrent?: string;
  allowAttributionOverride?: boolean;
  budgetUsd?: string;
  period?: string;
  expires?: string;
}

function positiveInt(v: string | undefined, option: string): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new TollgateError('TG_ERR_USAGE', { option });
  return n;
}

interface UpdateOptions {
  name?: string;
  user?: string;
  team?: string;
  models?: string;
  rpm?: string;
  tpm?: string;
  concurrent?: string;
  allowAttributionOverride?: boolean;
  budgetUsd?: string;
  period?: string;
  expires?: string;
}

/** `none` clears an option of `keys update`; absent keeps it. */
const CLEAR = 'none';

function clearable<T>(v: string | undefined, parse: (v: string) => T): T | null | undefined {
  if (v === undefined) return undefined;
  return v === CLEAR ? null : parse(v);
}

/** `keys update` options as changes; throws TG_ERR_USAGE naming the option. */
function keyChanges(opts: UpdateOptions): KeyChanges {
  const changes: KeyChanges = {};
  if (opts.name !== undefined) changes.name = opts.name;
  if (opts.user !== undefined) changes.user = opts.user === CLEAR ? null : opts.user;
  if (opts.team !== undefined) changes.team = opts.team === CLEAR ? null : opts.team;
  if (opts.models !== undefined)
    changes.allowedModels =
      opts.models === '*' || opts.models === CLEAR
        ? '*'
        : opts.models
            .split(',')
            .map((m) => m.trim())
            .filter(Boolean);
  for (const limit of ['rpm', 'tpm', 'concurrent'] as const) {
    const v = clearable(opts[limit], (x) => positiveInt(x, limit));
    if (v !== undefined) changes[limit] = v;
  }
  if (opts.allowAttributionOverride !== undefined)
    changes.allowAttributionOverride = opts.allowAttributionOverride;
  const budget = clearable(opts.budgetUsd, (x) => {
    const usd = Number(x);
    if (!Number.isFinite(usd) || usd <= 0) throw new TollgateError('TG_ERR_USAGE', { option: 'budget-usd' });
    return Math.round(usd * 1_000_000);
  });
  if (budget !== undefined) changes.budgetMicroUsd = budget;
  if (opts.period !== undefined) {
    if (opts.period !== 'day' && opts.period !== 'month')
      throw new TollgateError('TG_ERR_USAGE', { option: 'period' });
    changes.budgetPeriod = opts.period;
  }
  const expires = clearable(opts.expires, (x) => {
    const t = Date.parse(x);
    if (Number.isNaN(t)) throw new TollgateError('TG_ERR_USAGE', { option: 'expires' });
    return t;
  });
  if (expires !== undefined) changes.expiresAt = expires;
  return changes;
}

export function registerKeys(program: Command, ctx: CliContext): void {
  const keys = program
    .command('keys')
    .description('gateway-issued (virtual) keys with limits and budgets (managed mode)');
  keys
    .command('create')
    .description('create a key; it is printed once and only its hash is stored')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--user <id>', 'the person it belongs to')
    .option('--team <team>', 'the team it belongs to')
    .option('--models <a,b>', 'models it may use (default: any)')
    .option('--rpm <n>', 'requests per minute')
    .option('--tpm <n>', 'tokens per minute')
    .option('--concurrent <n>', 'requests in flight at once')
    .option(
      '--allow-attribution-override',
      "x-tollgate-user / x-tollgate-team headers win over the key's --user / --team (default: the key wins)",
    )
    .option('--budget-usd <x>', 'spend limit per period, in USD')
    .option('--period <day|month>', 'budget period (default month)')
    .option('--expires <date>', 'expiry (ISO-8601 date or time)')
    .action(async (opts: CreateOptions, cmd: Command) => {
      const g = globals(cmd);
      const input: CreateKeyInput = { name: opts.name, user: opts.user ?? null, team: opts.team ?? null };
      if (opts.models)
        input.allowedModels = opts.models
          .split(',')
          .map((m) => m.trim())
          .filter(Boolean);
      input.rpm = positiveInt(opts.rpm, 'rpm');
      input.tpm = positiveInt(opts.tpm, 'tpm');
      input.concurrent = positiveInt(opts.concurrent, 'concurrent');
      input.allowAttributionOverride = opts.allowAttributionOverride === true;
      if (opts.budgetUsd !== undefined) {
        const usd = Number(opts.budgetUsd);
        if (!Number.isFinite(usd) || usd <= 0)
          throw new TollgateError('TG_ERR_USAGE', { option: 'budget-usd' });
        input.budgetMicroUsd = Math.round(usd * 1_000_000);
        const period = (opts.period ?? 'month') as BudgetPeriod;
        if (period !== 'day' && period !== 'month')
          throw new TollgateError('TG_ERR_USAGE', { option: 'period' });
        input.budgetPeriod = period;
      }
      if (opts.expires) {
        const t = Date.parse(opts.expires);
        if (Number.isNaN(t)) throw new TollgateError('TG_ERR_USAGE', { option: 'expires' });
        input.expiresAt = t;
      }
      const s = await openStoreWithTables(configFor(ctx, g).db, { create: true });
      try {
        const created = await createKey(s.tables.keys, systemClock, input);
        await recordCliAdminAction(
          s.opened.store,
          { action: 'admin:keys.create', actor: 'cli', subject: created.record.id, ok: true },
          systemClock,
        );
        if (g.json)
          println(
            ctx.stdout,
            JSON.stringify({ key: created.key, id: created.record.id, name: created.record.name }),
          );
        else {
          println(ctx.stdout, `created key ${created.record.id} (${created.record.name})`);
          println(ctx.stdout, `  ${created.key}`);
          println(ctx.stdout, 'Store it now: it is shown once, and Tollgate keeps only its hash.');
        }
      } finally {
        await s.close();
      }
    });
  keys
    .command('list')
    .description('keys with their prefix, limits, last use and status')
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const s = await openStoreWithTables(configFor(ctx, g).db);
      try {
        const list = await s.tables.keys.list();
        const now = ctx.now();
        if (g.json) {
          for (const k of list) {
            const { keyHash: _hash, ...shown } = k;
            println(ctx.stdout, JSON.stringify({ ...shown, status: keyStatus(k, now) }));
          }
          return;
        }
        if (list.length === 0) return println(ctx.stdout, 'no keys yet: tollgate keys create --name NAME');
        println(
          ctx.stdout,
          renderTable(list, [
            { header: 'id', value: (k) => k.id },
            { header: 'name', value: (k) => k.name, max: 24 },
            { header: 'prefix', value: (k) => k.displayPrefix },
            { header: 'user', value: (k) => k.user },
            { header: 'team', value: (k) => k.team },
            {
              header: 'models',
              value: (k) => (k.allowedModels === '*' ? '*' : k.allowedModels.join(',')),
              max: 30,
            },
            { header: 'rpm', value: (k) => k.rpm ?? '—', align: 'right' },
            { header: 'tpm', value: (k) => k.tpm ?? '—', align: 'right' },
            { header: 'concurrent', value: (k) => k.concurrent ?? '—', align: 'right' },
            { header: 'headers', value: (k) => (k.allowAttributionOverride ? 'override' : 'key wins') },
            {
              header: 'budget',
              value: (k) =>
                k.budgetMicroUsd === null ? '—' : `${formatUsd(k.budgetMicroUsd)}/${k.budgetPeriod}`,
              align: 'right',
            },
            {
              header: 'last use',
              value: (k) =>
                k.lastUsedAt ? new Date(k.lastUsedAt).toISOString().slice(0, 16).replace('T', ' ') : 'never',
            },
            { header: 'status', value: (k) => keyStatus(k, now) },
          ]),
        );
      } finally {
        await s.close();
      }
    });
  keys
    .command('update <id>')
    .description(
      'change a key in place (the key itself stays valid): limits, budget, expiry, models, name, user, team; ' +
        '`none` clears a value',
    )
    .option('--name <name>', 'what the key is for')
    .option('--user <id|none>', 'the person it belongs to')
    .option('--team <team|none>', 'the team it belongs to')
    .option('--models <a,b|*>', 'models it may use (* or none: any)')
    .option('--rpm <n|none>', 'requests per minute')
    .option('--tpm <n|none>', 'tokens per minute')
    .option('--concurrent <n|none>', 'requests in flight at once')
    .option('--allow-attribution-override', 'x-tollgate-user / x-tollgate-team headers win over the key')
    .option('--no-allow-attribution-override', "the key's user and team win over the headers")
    .option('--budget-usd <x|none>', 'spend limit per period, in USD (keeps the period unless --period)')
    .option('--period <day|month>', 'budget period')
    .option('--expires <date|none>', 'expiry (ISO-8601 date or time, in the future)')
    .action(async (id: string, opts: UpdateOptions, cmd: Command) => {
      const g = globals(cmd);
      const changes = keyChanges(opts);
      if (Object.keys(changes).length === 0)
        throw new TollgateError('TG_ERR_USAGE', { reason: 'nothing to change: name at least one option' });
      const s = await openStoreWithTables(configFor(ctx, g).db);
      try {
        const record = (ok: boolean, errorCode: string | null) =>
          recordCliAdminAction(
            s.opened.store,
            { action: 'admin:keys.update', actor: 'cli', subject: id, ok, errorCode },
            systemClock,
          );
        let out: Awaited<ReturnType<typeof updateKey>>;
        try {
          out = await updateKey(s.tables.keys, systemClock, id, changes);
        } catch (err) {
          await record(false, isTollgateError(err) ? err.code : null);
          throw err;
        }
        await record(!('refused' in out), 'refused' in out ? out.refused : null);
        if ('refused' in out)
          throw new TollgateError('TG_ERR_USAGE', {
            reason:
              out.refused === 'revoked' ? 'the key is revoked: create a new one' : 'no key with this id',
            id,
          });
        const { keyHash: _hash, ...shown } = out.record;
        if (g.json)
          println(ctx.stdout, JSON.stringify({ ...shown, status: keyStatus(out.record, ctx.now()) }));
        else println(ctx.stdout, `updated ${id} (${out.record.name}): ${Object.keys(changes).join(', ')}`);
      } finally {
        await s.close();
      }
    });
  keys
    .command('revoke <id>')
    .description('revoke a key; refused from the next request on (PostgreSQL: by every replica within 1 s)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const s = await openStoreWithTables(configFor(ctx, g).db);
      try {
        const done = await s.tables.keys.revoke(id, ctx.now());
        await recordCliAdminAction(
          s.opened.store,
          {
            action: 'admin:keys.revoke',
            actor: 'cli',
            subject: id,
            ok: done,
            errorCode: done ? null : 'not_found',
          },
          systemClock,
        );
        if (!done) throw new TollgateError('TG_ERR_USAGE', { reason: 'no key with this id', id });
        println(ctx.stdout, g.json ? JSON.stringify({ revoked: id }) : `revoked ${id}`);
      } finally {
        await s.close();
      }
    });
}
