import { closeSync, mkdirSync, openSync, readdirSync, unlinkSync, writeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '../core/audit-event.js';
import type { Clock } from '../core/clock.js';
import type { Lifetime } from '../core/lifetime.js';
import type { Log } from '../core/log.js';
import { jsonlLine } from './jsonl-line.js';

export interface JsonlFileSinkOptions {
  /** Folder of the `events-YYYYMMDD-HHMMSS.jsonl` files (created if missing). */
  dir: string;
  /** Start a new file before one would pass this size (default 100 MiB). */
  maxBytes?: number;
  /** Start a new file when the current one is this old (default one day). */
  rotateMs?: number;
  /** Files kept; older ones are deleted at rotation (default 10). */
  maxFiles?: number;
  /** Lines waiting for the disk at most; past it events are counted as dropped (default 50 000). */
  maxPending?: number;
  clock: Clock;
  /** Told when a write fails or events are dropped (a reason and a count, never content). */
  onError?: (reason: string, count: number) => void;
}

export interface JsonlFileSinkStats {
  written: number;
  dropped: number;
  files: number;
}

/** A rotating JSONL file sink: a pipeline listener whose files log shippers tail. */
export interface JsonlFileSink {
  /** Queues one event; the write happens on a later tick. Never throws, never waits. */
  readonly listener: (event: AuditEvent) => void;
  /** Writes everything queued now. */
  flush(): void;
  /** Flushes and closes the current file. */
  close(): void;
  stats(): JsonlFileSinkStats;
  /** The file being written, if any. */
  currentFile(): string | null;
}

const FILE_NAME = /^events-\d{8}-\d{6}(?:-\d+)?\.jsonl$/;

/** `events-20261126-210501.jsonl` (UTC), so names sort in time order. */
function fileNameAt(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-26T21:05:01.123Z
  return `events-${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}.jsonl`;
}

/**
 * Appends every event as one line to the current file and rotates by size and age. Rotation opens
 * a new file instead of renaming the old one, so shippers following a glob (`events-*.jsonl`) never
 * see a file move under them; every write is whole lines, so a tailer never reads half an event.
 */
export function createJsonlFileSink(o: JsonlFileSinkOptions): JsonlFileSink {
  const maxBytes = o.maxBytes ?? 100 * 1024 * 1024;
  const rotateMs = o.rotateMs ?? 86_400_000;
  const maxFiles = Math.max(1, o.maxFiles ?? 10);
  const maxPending = o.maxPending ?? 50_000;
  mkdirSync(o.dir, { recursive: true });

  let pending: string[] = [];
  let scheduled = false;
  let fd: number | null = null;
  let file: string | null = null;
  let size = 0;
  let openedAt = 0;
  const counts = { written: 0, dropped: 0 };

  const open = (): void => {
    const now = o.clock.now();
    let name = fileNameAt(now);
    for (let n = 1; existsSync(join(o.dir, name)); n++)
      name = fileNameAt(now).replace('.jsonl', `-${n}.jsonl`);
    file = join(o.dir, name);
    fd = openSync(file, 'a', 0o600);
    size = 0;
    openedAt = now;
    prune();
  };

  const prune = (): void => {
    const files = readdirSync(o.dir)
      .filter((f) => FILE_NAME.test(f))
      .sort(byTime);
    for (const old of files.slice(0, Math.max(0, files.length - maxFiles))) {
      try {
        unlinkSync(join(o.dir, old));
      } catch {
        // already gone (another process pruned it): nothing to do
      }
    }
  };

  const closeFile = (): void => {
    if (fd !== null) closeSync(fd);
    fd = null;
    file = null;
  };

  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    let done = 0;
    try {
      while (done < lines.length) {
        if (
          fd === null ||
          o.clock.now() - openedAt >= rotateMs ||
          (size > 0 && size + Buffer.byteLength(lines[done]!) > maxBytes)
        ) {
          closeFile();
          open();
        }
        // Whole lines up to the size bound go in one write (a single longer line gets a file of its own).
        let chunk = '';
        let bytes = 0;
        let n = 0;
        while (done + n < lines.length) {
          const len = Buffer.byteLength(lines[done + n]!);
          if (n > 0 && size + bytes + len > maxBytes) break;
          chunk += lines[done + n];
          bytes += len;
          n++;
        }
        writeAll(fd!, Buffer.from(chunk));
        size += bytes;
        done += n;
        counts.written += n;
      }
    } catch {
      const lost = lines.length - done;
      counts.dropped += lost;
      o.onError?.('write failed', lost);
      try {
        closeFile();
      } catch {
        fd = null;
        file = null;
      }
    }
  };

  return {
    listener(event: AuditEvent): void {
      try {
        if (pending.length >= maxPending) {
          counts.dropped++;
          o.onError?.('queue full', 1);
          return;
        }
        pending.push(`${jsonlLine(event)}\n`);
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      } catch {
        counts.dropped++;
      }
    },
    flush,
    close(): void {
      flush();
      closeFile();
    },
    stats: () => ({ ...counts, files: readdirSync(o.dir).filter((f) => FILE_NAME.test(f)).length }),
    currentFile: () => file,
  };
}

function byTime(a: string, b: string): number {
  // events-YYYYMMDD-HHMMSS[-n].jsonl: the stamp, then the collision counter as a number.
  const ka = a.slice(7, 22);
  const kb = b.slice(7, 22);
  if (ka !== kb) return ka < kb ? -1 : 1;
  return suffix(a) - suffix(b);
}

function suffix(name: string): number {
  const m = /-(\d+)\.jsonl$/.exec(name.slice(22));
  return m ? Number(m[1]) : 0;
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off);
}

/** The `sinks.jsonl` section of the config (tollgate.config.yaml); no `dir`, no sink. */
export interface JsonlSinkConfig {
  dir: string | null;
  max_bytes: number;
  max_files: number;
  rotate_ms: number;
}

/** The rotating JSONL copy for log shippers when configured (null otherwise), closed with `life`. */
export function openJsonlFileSink(
  config: JsonlSinkConfig,
  deps: { clock: Clock; log: Log },
  life: Lifetime,
): JsonlFileSink | null {
  if (!config.dir) return null;
  const sink = createJsonlFileSink({
    dir: config.dir,
    maxBytes: config.max_bytes,
    maxFiles: config.max_files,
    rotateMs: config.rotate_ms,
    clock: deps.clock,
    onError: (reason, count) => deps.log.error({ reason, count }, 'JSONL sink could not write events'),
  });
  return life.own('jsonl sink', sink, (s) => s.close());
}
