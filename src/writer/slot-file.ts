import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  openSync,
  readSync,
  write,
  writeSync,
} from 'node:fs';
import { createHash } from 'node:crypto';

/** Writes `buf` at `pos` and fdatasyncs, off the event loop; `done` once it is on disk. */
export type AsyncSlotWrite = (
  fd: number,
  buf: Buffer,
  pos: number,
  done: (err: Error | null) => void,
) => void;

/** libuv's thread pool: the write, then its fdatasync. */
const threadPoolWrite: AsyncSlotWrite = (fd, buf, pos, done) => {
  write(fd, buf, 0, buf.length, pos, (err) => {
    if (err) done(err);
    else fdatasync(fd, (err2) => done(err2));
  });
};

/**
 * A small state file written in place: two fixed-size slots, each holding
 * `<generation> <checksum> <body>` padded with spaces. The file is allocated full size when
 * created, so later writes overwrite existing disk blocks and still succeed on a full disk. The
 * newest valid slot (highest generation) wins on read.
 *
 * Which slot a write goes to: the one not holding the newest durable write, so a write torn by a
 * crash leaves the other slot readable; but never the slot of a write still in flight on the
 * thread pool (`writeAsync`, at most one at a time). While one is in flight every other write
 * goes to the other slot, so each slot's writes land in the order their generations were taken
 * and no write is ever overwritten by an older one, whenever the one in flight lands. The cost:
 * while one is in flight, a synchronous write replaces the newest durable one, so a power cut
 * tearing it leaves only the other slot (older, or the write in flight).
 */
export class SlotFile {
  private fd: number | null = null;
  private gen = 0;
  /** Slot of the newest write known to be on disk (its generation; -1: unknown, e.g. after a failed write). */
  private durableSlot = 0;
  private durableGen = -1;
  /** Slot of the write in flight on the thread pool, or null. */
  private pendingSlot: number | null = null;
  /** A close asked for while a write is in flight: made when it finishes (its fd must stay this file's). */
  private closeWhenIdle = false;

  constructor(
    readonly path: string,
    readonly slotBytes: number,
    /** How `writeAsync` writes (tests inject one to choose when it lands). */
    private readonly asyncWrite: AsyncSlotWrite = threadPoolWrite,
  ) {}

  /** The newest valid body, or null (no file, or no valid slot). */
  read(): string | null {
    if (!existsSync(this.path)) return null;
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return null;
    }
    try {
      const buf = Buffer.alloc(this.slotBytes * 2);
      const n = readSync(fd, buf, 0, buf.length, 0);
      let best: { gen: number; body: string; slot: number } | null = null;
      for (let off = 0; off + this.slotBytes <= n; off += this.slotBytes) {
        const text = buf
          .subarray(off, off + this.slotBytes)
          .toString('utf8')
          .trimEnd();
        const a = text.indexOf(' ');
        const b = text.indexOf(' ', a + 1);
        if (a <= 0 || b !== a + 17) continue;
        const gen = Number(text.slice(0, a));
        const body = text.slice(b + 1);
        if (!Number.isSafeInteger(gen) || checksum(`${gen} ${body}`) !== text.slice(a + 1, b)) continue;
        if (best === null || gen > best.gen) best = { gen, body, slot: off / this.slotBytes };
      }
      if (best && best.gen > this.gen) {
        // Written by an earlier run: the next write goes to the other slot.
        this.gen = best.gen;
        this.durableSlot = best.slot;
        this.durableGen = best.gen;
      }
      return best?.body ?? null;
    } finally {
      closeSync(fd);
    }
  }

  /** Creates the file at full size now (while the disk has room), if it does not exist. */
  allocate(): void {
    this.open();
  }

  /** Writes `body` durably (throws on failure, or when it does not fit a slot). */
  write(body: string): void {
    const fd = this.open();
    const { buf, gen, slot } = this.slot(body);
    try {
      writeSync(fd, buf, 0, this.slotBytes, slot * this.slotBytes);
      fdatasyncSync(fd);
    } catch (err) {
      // What that slot holds now is unknown; if it held the newest durable write, that is gone.
      if (slot === this.durableSlot) this.durableGen = -1;
      throw err;
    }
    this.landed(slot, gen);
  }

  /**
   * Writes `body` durably on libuv's thread pool (the write and its fdatasync off the event loop);
   * `done` gets null once it is on disk. Its generation is taken now, and writes made meanwhile go
   * to the other slot with higher generations, so whichever lands last the newer one wins on read.
   * One at a time: a second one while one is in flight fails.
   */
  writeAsync(body: string, done: (err: Error | null) => void): void {
    let fd: number;
    let slot: { buf: Buffer; gen: number; slot: number };
    try {
      if (this.pendingSlot !== null) throw new Error(`${this.path}: a write is already in flight`);
      fd = this.open();
      slot = this.slot(body);
    } catch (err) {
      done(err as Error);
      return;
    }
    this.pendingSlot = slot.slot;
    this.asyncWrite(fd, slot.buf, slot.slot * this.slotBytes, (err) => {
      this.pendingSlot = null;
      if (!err) this.landed(slot.slot, slot.gen);
      else if (slot.slot === this.durableSlot) this.durableGen = -1;
      if (this.closeWhenIdle) this.close();
      done(err);
    });
  }

  /** A write of generation `gen` is on disk in `slot`. */
  private landed(slot: number, gen: number): void {
    if (gen > this.durableGen) {
      this.durableSlot = slot;
      this.durableGen = gen;
    }
  }

  /** The padded slot of the next generation (taken now) and which slot it goes to. */
  private slot(body: string): { buf: Buffer; gen: number; slot: number } {
    if (this.gen === 0) this.read();
    const gen = this.gen + 1;
    const line = `${gen} ${checksum(`${gen} ${body}`)} ${body}`;
    const buf = Buffer.alloc(this.slotBytes, 0x20);
    if (Buffer.byteLength(line) > this.slotBytes - 1)
      throw new RangeError(`state does not fit in ${this.slotBytes} bytes`);
    buf.write(line, 0, 'utf8');
    buf[this.slotBytes - 1] = 0x0a;
    // Taken even if the write then fails: generations only need to grow.
    this.gen = gen;
    // Never the slot of the write in flight (it could land after this one and overwrite it).
    const slot = this.pendingSlot !== null ? 1 - this.pendingSlot : 1 - this.durableSlot;
    return { buf, gen, slot };
  }

  /** Closes the file, once the asynchronous write in flight (if any) has finished. */
  close(): void {
    if (this.pendingSlot !== null) {
      this.closeWhenIdle = true;
      return;
    }
    this.closeWhenIdle = false;
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // nothing left to do
    }
    this.fd = null;
  }

  private open(): number {
    if (this.fd === null) {
      const fresh = !existsSync(this.path);
      if (!fresh) this.read();
      const fd = openSync(this.path, fresh ? 'w+' : 'r+', 0o600);
      try {
        if (fresh) {
          writeSync(fd, Buffer.alloc(this.slotBytes * 2, 0x20), 0, this.slotBytes * 2, 0);
          fdatasyncSync(fd);
        }
      } catch (err) {
        closeSync(fd);
        throw err;
      }
      this.fd = fd;
    }
    return this.fd;
  }
}

function checksum(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 16);
}
