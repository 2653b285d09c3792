/**
 * The one filter→SQL translation of the SQLite dialect. A filter on a user, session, virtual key,
 * feature or status reads through its lookup table (sqlite-event-lookups.ts) for the merged events
 * and the events table's rowid range past the mark for the rest, in one statement (one snapshot).
 */
import type { EventFilter } from '../event-store.js';
import { LOOKUPS, MARK_SQL, type Lookup } from './sqlite-event-lookups.js';

/** A filter with the event page's position: rows strictly before (ts_ms, rowid_) in page order. */
export interface SqliteEventFilter extends EventFilter {
  before?: { tsMs: number; rowid: number };
  /** Only this virtual key's events (`virtual_key_id`; the key budget's seed). */
  virtualKey?: string;
}

/** Names a column of `events` in one arm of the query (qualified when the arm joins). */
export type ColumnOf = (name: string) => string;

export interface EventsSql {
  sql: string;
  params: unknown[];
}

function conditions(f: SqliteEventFilter, col: ColumnOf): EventsSql & { conds: string[] } {
  const conds: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, ...values: unknown[]): void => {
    conds.push(sql);
    params.push(...values);
  };
  if (f.sinceMs !== undefined) add(`${col('ts_ms')} >= ?`, f.sinceMs);
  if (f.untilMs !== undefined) add(`${col('ts_ms')} < ?`, f.untilMs);
  for (const l of LOOKUPS) if (f[l.field] !== undefined) add(`${col(l.column)} = ?`, f[l.field]);
  if (f.key !== undefined)
    add(
      `(${col('api_key_id')} = ? OR ${col('api_key_prefix')} = ? OR ${col('virtual_key_id')} = ?)`,
      f.key,
      f.key,
      f.key,
    );
  if (f.model !== undefined)
    add(`(${col('model_requested')} = ? OR ${col('model_used')} = ?)`, f.model, f.model);
  if (f.chainId !== undefined) add(`${col('chain_id')} = ?`, f.chainId);
  if (f.afterCursor !== undefined) add(`${col('rowid_')} > ?`, f.afterCursor);
  if (f.before !== undefined) {
    // The first bound is implied by the second; it lets an index walk start at the position.
    const ts = col('ts_ms');
    add(
      `${ts} <= ? AND (${ts} < ? OR (${ts} = ? AND ${col('rowid_')} < ?))`,
      f.before.tsMs,
      f.before.tsMs,
      f.before.tsMs,
      f.before.rowid,
    );
  }
  const sql = conds.length > 0 ? ` WHERE ${conds.join(' AND ')}` : '';
  return { sql, params, conds };
}

const plain: ColumnOf = (name) => name;

/**
 * `SELECT <columns> FROM events` for the events a filter matches, finished by `tail` (ORDER BY and
 * LIMIT, given how to name a column). With a filter on a lookup's field it is the union of two arms,
 * each finished by `tail` and the union by it again: the merged events, read in the lookup table's
 * key order (a page of the newest 50 reads about 50 lookup rows), and the unmerged ones. The first
 * lookup in LOOKUPS' order that the filter names drives the read; its other fields are conditions.
 * A filter with `afterCursor` (`tollgate events --follow`: the rows written since its last poll)
 * reads the events' rowid range past the cursor instead: a few new rows, where a lookup would walk
 * every row of its key (a status is most of the store).
 */
export function eventsSql(
  columns: readonly string[] | '*',
  filter: SqliteEventFilter,
  tail: (col: ColumnOf) => string = () => '',
): EventsSql {
  const lookup: Lookup | undefined =
    filter.afterCursor === undefined ? LOOKUPS.find((l) => filter[l.field] !== undefined) : undefined;
  const list = (prefix: string): string =>
    columns === '*' ? `${prefix}*` : columns.map((c) => `${prefix}${c}`).join(', ');
  if (lookup === undefined) {
    const c = conditions(filter, plain);
    return { sql: `SELECT ${list('')} FROM events${c.sql}${tail(plain)}`, params: c.params };
  }
  // The lookup row carries the key, ts_ms and rowid_: conditions and order on them read the
  // table's primary key, the rest reads the event row.
  const keyed = new Set<string>([lookup.column, 'ts_ms', 'rowid_']);
  let eventColumns = false;
  const onLookup: ColumnOf = (name) => {
    if (keyed.has(name)) return `l.${name}`;
    eventColumns = true;
    return `e.${name}`;
  };
  const merged = conditions(filter, onLookup);
  const mergedTail = tail(onLookup);
  const unmerged = conditions(filter, plain);
  // Both arms' access paths are fixed: the lookup table drives its arm (CROSS JOIN keeps it the
  // outer loop), and the unmerged arm reads the rowid range past the mark, never an index (the
  // mark is a subquery the planner cannot size, and a ts_ms index walk would read the whole store).
  // When the conditions and the order name only the lookup's columns, the lookup rows are chosen
  // (and limited) before any event row is read: an order the key does not give (rowid order:
  // `query()`) then sorts the lookup rows alone, not the event rows they point to.
  const mergedArm = eventColumns
    ? `SELECT ${list('e.')} FROM ${lookup.table} l CROSS JOIN events e ON e.rowid_ = l.rowid_${merged.sql}${mergedTail}`
    : columns !== '*' && columns.every((c) => keyed.has(c))
      ? `SELECT ${list('l.')} FROM ${lookup.table} l${merged.sql}${mergedTail}`
      : `SELECT ${list('e.')} FROM (SELECT l.rowid_ FROM ${lookup.table} l${merged.sql}${mergedTail}) k CROSS JOIN events e ON e.rowid_ = k.rowid_`;
  const unmergedArm = `SELECT ${list('')} FROM events NOT INDEXED WHERE rowid_ > ${MARK_SQL} AND ${unmerged.conds.join(' AND ')}${tail(plain)}`;
  return {
    sql: `SELECT * FROM (SELECT * FROM (${mergedArm}) UNION ALL SELECT * FROM (${unmergedArm}))${tail(plain)}`,
    params: [...merged.params, ...unmerged.params],
  };
}
