import type { Command } from 'commander';
import { loadPriceCatalog, type PriceRow } from '../../pricing/catalog.js';
import { configFor, globals, openStoreWithTables, println, type CliContext } from '../cli-context.js';
import { parseTimeBound } from '../duration.js';
import { renderTable } from '../format/table.js';

export function registerPrices(program: Command, ctx: CliContext): void {
  const prices = program
    .command('prices')
    .description(
      'the price catalog in use (USD per million tokens); `prices check` finds unpriced models in traffic',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const config = configFor(ctx, g);
      const catalog = loadPriceCatalog({ overridePath: config.prices.override_path });
      if (g.json) {
        // Rows as the catalog holds them: integer micro-USD per million tokens, said so by `unit`.
        println(
          ctx.stdout,
          JSON.stringify({
            version: catalog.version,
            unit: 'micro_usd_per_million_tokens',
            rows: catalog.rows,
          }),
        );
        return;
      }
      println(ctx.stdout, `price catalog ${catalog.version} (USD per million tokens)`);
      println(
        ctx.stdout,
        renderTable(catalog.rows, [
          { header: 'provider', value: (r) => r.provider },
          { header: 'model', value: (r) => r.model },
          {
            header: 'input',
            value: (r) => (r.input === null ? '—' : usdPerMillion(r.input)),
            align: 'right',
          },
          {
            header: 'cached',
            value: (r) => (r.cached_input === null ? '—' : usdPerMillion(r.cached_input)),
            align: 'right',
          },
          {
            header: 'output',
            value: (r) => (r.output === null ? '—' : usdPerMillion(r.output)),
            align: 'right',
          },
          { header: 'per unit', value: (r) => unitPrices(r.units), max: 48 },
          { header: 'from', value: (r) => r.effective_from },
          { header: 'source', value: (r) => r.source, max: 60 },
        ]),
      );
    });
  prices
    .command('check')
    .description('models seen in traffic that have no price (their cost is null, never $0); exit 1 when any')
    .option('--since <when>', 'traffic window (default 30d)')
    .action(async (opts: { since?: string }, cmd: Command) => {
      const g = globals(cmd);
      const config = configFor(ctx, g);
      const catalog = loadPriceCatalog({ overridePath: config.prices.override_path });
      const s = await openStoreWithTables(config.db);
      try {
        const sinceMs = parseTimeBound(opts.since ?? '30d', ctx.now());
        const rows = await s.tables.unpricedModelsSince(sinceMs);
        const unpriced = rows.filter((r) => catalog.resolve(r.model, Date.parse(r.last_seen)) === null);
        if (g.json) println(ctx.stdout, JSON.stringify({ catalog_version: catalog.version, unpriced }));
        else if (unpriced.length === 0)
          println(ctx.stdout, `every model seen since ${new Date(sinceMs).toISOString()} has a price`);
        else {
          println(
            ctx.stdout,
            `${unpriced.length} model(s) without a price in catalog ${catalog.version}; add rows with a source to a prices override file:`,
          );
          println(
            ctx.stdout,
            renderTable(unpriced, [
              { header: 'model', value: (r) => r.model },
              { header: 'requests', value: (r) => r.requests, align: 'right' },
              { header: 'last seen', value: (r) => r.last_seen },
            ]),
          );
        }
        if (unpriced.length > 0) process.exitCode = 1;
      } finally {
        await s.close();
      }
    });
}

/** A row's unit prices as published: `audio_second $0.006/60`, `character $15/1000000`. */
function unitPrices(units: PriceRow['units']): string {
  const parts = Object.entries(units).map(
    ([name, u]) => `${name} $${u.usd}${u.per === 1 ? '' : `/${u.per}`}`,
  );
  return parts.length ? parts.join(', ') : '—';
}

/** The catalog's micro-USD per million tokens as dollars (`2.00`, `0.075`): at least cents, no trailing zeros past them. */
export function usdPerMillion(micro: number): string {
  return (micro / 1_000_000).toFixed(6).replace(/(\.\d\d\d*?)0+$/, '$1');
}
