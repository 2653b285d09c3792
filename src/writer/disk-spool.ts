import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import type { AuditEvent } from '../core/audit-event.js';

/**
 * A bounded, fsync'd, checksummed local buffer for events the store could not take.
 * One line per event: `<sha256-prefix-16> <json>`. Only redacted, chained events reach it.
 */
export class DiskSpool {
  private fd: number | null = null;
  private bytes = 0;

  constructor(
    readonly path: string,
    readonly maxBytes: number,
  ) {}

  private open(): number {
    if (this.fd === null) {
      this.fd = openSync(this.path, 'a', 0o600);
      this.bytes = fstatSync(this.fd).size;
    }
    return this.fd;
  }

  /** Size in bytes of what waits to be replayed. */
  size(): number {
    if (this.fd === null && existsSync(this.path)) this.open();
    return this.bytes;
  }

  /**
   * Appends events durably. Returns how many fitted; the rest did not (spool full) and the caller
   * must account for them as a gap.
   */
  append(events: readonly AuditEvent[]): number {
    const fd = this.open();
    const start = this.bytes;
    // End offset (from `start`) of each whole line, to know what a short write kept.
    const ends: number[] = [];
    let size = 0;
    let out = '';
    for (const e of events) {
      const json = JSON.stringify(e);
      const line = `${checksum(json)} ${json}\n`;
      const len = Buffer.byteLength(line);
      if (start + size + len > this.maxBytes) break;
      out += line;
      size += len;
      ends.push(size);
    }
    if (!out) return 0;
    const buf = Buffer.from(out);
    let done = 0;
    try {
      while (done < buf.length) done += writeSync(fd, buf, done);
      fsyncSync(fd);
    } catch (err) {
      // Disk full or read-only midway (ENOSPC, EPERM, EIO): keep only whole lines, so what is counted
      // as spooled is exactly what replay finds; the caller accounts for the rest as a gap. A failed
      // fsync after whole writes keeps nothing: those lines are not known to be on disk, and left in
      // the file they would be replayed while also counted lost (a gap record naming stored events).
      let whole = 0;
      if (done < buf.length) while (whole < ends.length && ends[whole]! <= done) whole++;
      const keep = whole > 0 ? ends[whole - 1]! : 0;
      try {
        ftruncateSync(fd, start + keep);
        fsyncSync(fd);
      } catch {
        // A torn tail left behind fails its checksum on replay and is reported as spool_corrupt.
      }
      this.bytes = start + keep;
      if (whole === 0) throw err;
      return whole;
    }
    this.bytes = start + buf.length;
    return ends.length;
  }

  /** Reads what waits, in order; lines that fail their checksum (torn tail) are counted, not returned. */
  read(): { events: AuditEvent[]; corrupt: number } {
    if (!existsSync(this.path)) return { events: [], corrupt: 0 };
    const events: AuditEvent[] = [];
    let corrupt = 0;
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line) continue;
      const sp = line.indexOf(' ');
      const json = line.slice(sp + 1);
      if (sp !== 16 || checksum(json) !== line.slice(0, 16)) {
        corrupt++;
        continue;
      }
      events.push(JSON.parse(json) as AuditEvent);
    }
    return { events, corrupt };
  }

  /** Empties the spool after a successful replay (rename first so a crash never half-truncates). */
  clear(): void {
    this.close();
    if (existsSync(this.path)) renameSync(this.path, `${this.path}.replayed`);
    this.bytes = 0;
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}

function checksum(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 16);
}
