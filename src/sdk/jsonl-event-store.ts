import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditEvent } from '../core/audit-event.js';
import { TollgateError } from '../core/errors.js';
import type {
  ChainHead,
  ChainHeadPosition,
  EventFilter,
  EventPage,
  EventStore,
} from '../store/event-store.js';
import { MemoryEventStore } from '../store/memory/memory-event-store.js';

/**
 * An EventStore that appends one JSON event per line to a file (mode 0600), for apps that want
 * a plain audit file to ship with their own log tooling. Lines are injection-safe: JSON escapes
 * CR, LF and every control character, and U+2028/U+2029 (line breaks to some readers) are
 * escaped as well, so no field can start a forged line. Reads parse the file into a memory store
 * (fine for a sink; query a database for volume); a torn last line from a crash is skipped.
 */
export class JsonlEventStore implements EventStore {
  private fd: number | null = null;
  private ids: Set<string> | null = null;

  constructor(readonly path: string) {}

  async append(events: readonly AuditEvent[]): Promise<void> {
    const ids = this.knownIds();
    const fresh = new Set<string>();
    let out = '';
    try {
      for (const e of events) {
        if (ids.has(e.id) || fresh.has(e.id)) continue;
        out += `${jsonLine(e)}\n`;
        fresh.add(e.id);
      }
    } catch (err) {
      // Serialisation failed before anything was written: the batch is refused whole.
      throw new TollgateError('TG_ERR_STORE_WRITE', { store: 'jsonl', batch: events.length }, { cause: err });
    }
    if (!out) return;
    try {
      const fd = this.open();
      // One write per batch: a batch is appended whole or (on a crash) leaves a torn last line.
      writeSync(fd, out);
      fsyncSync(fd);
    } catch (err) {
      throw new TollgateError('TG_ERR_STORE_WRITE', { store: 'jsonl', batch: events.length }, { cause: err });
    }
    for (const id of fresh) ids.add(id);
  }

  async query(filter: EventFilter): Promise<AuditEvent[]> {
    return (await this.snapshot()).query(filter);
  }

  async get(id: string): Promise<AuditEvent | null> {
    return (await this.snapshot()).get(id);
  }

  async *iterateChain(chainId: string, fromSeq?: number, pageSize?: number): AsyncIterable<AuditEvent> {
    yield* (await this.snapshot()).iterateChain(chainId, fromSeq, pageSize);
  }

  async chains(): Promise<ChainHead[]> {
    return (await this.snapshot()).chains();
  }

  async chainHeads(): Promise<ChainHeadPosition[]> {
    return (await this.snapshot()).chainHeads();
  }

  async page(filter: EventFilter, cursor: string | null): Promise<EventPage> {
    return (await this.snapshot()).page(filter, cursor);
  }

  async count(filter?: EventFilter): Promise<number> {
    return (await this.snapshot()).count(filter);
  }

  async cursor(): Promise<number> {
    return (await this.snapshot()).cursor();
  }

  async close(): Promise<void> {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }

  private open(): number {
    if (this.fd === null) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.fd = openSync(this.path, 'a', 0o600);
    }
    return this.fd;
  }

  private readEvents(): AuditEvent[] {
    if (!existsSync(this.path)) return [];
    const out: AuditEvent[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as AuditEvent);
      } catch {
        // a torn line (crash mid-write) is not an event
      }
    }
    return out;
  }

  private knownIds(): Set<string> {
    this.ids ??= new Set(this.readEvents().map((e) => e.id));
    return this.ids;
  }

  private async snapshot(): Promise<MemoryEventStore> {
    const m = new MemoryEventStore();
    await m.append(this.readEvents());
    return m;
  }
}

/** One event as one line of JSON. */
export function jsonLine(event: AuditEvent): string {
  return JSON.stringify(event)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
