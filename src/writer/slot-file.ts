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

/**
 * A small state file written in place: two fixed-size slots, used in turn, each holding
 * `<generation> <checksum> <body>` padded with spaces. The file is allocated full size when
 * created, so later writes overwrite existing disk blocks and still succeed on a full disk; a
 * write torn by a crash leaves the other slot readable. The newest valid slot wins.
 */
export class SlotFile {
  private fd: number | null = null;
  private gen = 0;
  /** Asynchronous writes not finished yet; a close waits for them (their fd must stay this file's). */
  private inFlight = 0;
  private closeWhenIdle = false;

  constructor(
    readonly path: string,
    readonly slotBytes: number,
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
      let best: { gen: number; body: string } | null = null;
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
        if (best === null || gen > best.gen) best = { gen, body };
      }
      if (best && best.gen > this.gen) this.gen = best.gen;
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
    const { buf, pos } = this.slot(body);
    writeSync(fd, buf, 0, this.slotBytes, pos);
    fdatasyncSync(fd);
  }

  /**
   * Writes `body` durably on libuv's thread pool (the write and its fdatasync off the event loop);
   * `done` gets null once it is on disk. Its generation is taken now, so a synchronous `write`
   * made meanwhile (a newer body) gets a higher one and wins on read whichever lands last. Two
   * writes in flight at once use the two slots; a power cut tearing both would leave no mark.
   */
  writeAsync(body: string, done: (err: Error | null) => void): void {
    let fd: number;
    let slot: { buf: Buffer; pos: number };
    try {
      fd = this.open();
      slot = this.slot(body);
    } catch (err) {
      done(err as Error);
      return;
    }
    this.inFlight++;
    const finish = (err: Error | null): void => {
      this.inFlight--;
      if (this.inFlight === 0 && this.closeWhenIdle) this.close();
      done(err);
    };
    write(fd, slot.buf, 0, this.slotBytes, slot.pos, (err) => {
      if (err) finish(err);
      else fdatasync(fd, (err2) => finish(err2));
    });
  }

  /** The padded slot of the next generation (taken now) and where it goes. */
  private slot(body: string): { buf: Buffer; pos: number } {
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
    return { buf, pos: (gen % 2) * this.slotBytes };
  }

  /** Closes the file, once any asynchronous write has finished. */
  close(): void {
    if (this.inFlight > 0) {
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
