import { once } from 'node:events';
import type { EventStore } from '../store/event-store.js';
import { CSV_EOL, csvHeader, csvRow } from './csv-row.js';
import { jsonlLine } from './jsonl-line.js';
import { timeWindowPages, type PageOptions } from './time-window-pages.js';

export type ExportFormat = 'jsonl' | 'csv';

export interface ExportOptions extends PageOptions {
  format: ExportFormat;
  /** Called after each page with the number of events written so far. */
  onProgress?: (written: number) => void;
}

/**
 * Streams the events of a time range to `out` as JSONL (one event per line) or CSV (a header
 * row of the schema fields, then one record per event), page by page, waiting for the stream to
 * drain so memory stays bounded whatever the range. Returns how many events were written.
 */
export async function exportEvents(
  store: EventStore,
  out: NodeJS.WritableStream,
  o: ExportOptions,
): Promise<number> {
  const eol = o.format === 'csv' ? CSV_EOL : '\n';
  const line = o.format === 'csv' ? csvRow : jsonlLine;
  let written = 0;
  if (o.format === 'csv') await write(out, csvHeader() + eol);
  for await (const page of timeWindowPages(store, o)) {
    let chunk = '';
    for (const e of page) chunk += line(e) + eol;
    await write(out, chunk);
    written += page.length;
    o.onProgress?.(written);
  }
  return written;
}

async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}
