import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** Two lowercase hex digits of each byte value. */
const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => (i + 0x100).toString(16).slice(1));

/** Random bytes for ids, refilled 256 ids at a time. */
const pool = new Uint8Array(4096);
let poolAt = pool.length;

/** The last id's millisecond and counter (RFC 9562 §6.2, method 1: a counter seeded at random each millisecond). */
const v7State = { msecs: -Infinity, seq: 0 };

/**
 * Event ids are UUIDv7 (RFC 9562): time-ordered, so stores index them well.
 *
 * Without `msecs`, the id is the `uuid` package's `v7()` (the same state machine: monotonic within
 * a millisecond by its counter, the same byte layout), built without its per-id allocations: the
 * gateway makes one per request.
 */
export function newEventId(msecs?: number): string {
  if (msecs !== undefined) return uuidv7({ msecs });
  if (poolAt > pool.length - 16) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const r = pool;
  const o = poolAt;
  poolAt += 16;
  const now = Date.now();
  // uuid's updateV7State: a new millisecond seeds the counter from random bytes 6–9.
  if (now > v7State.msecs) {
    v7State.seq = (r[o + 6]! << 23) | (r[o + 7]! << 16) | (r[o + 8]! << 8) | r[o + 9]!;
    v7State.msecs = now;
  } else {
    v7State.seq = (v7State.seq + 1) | 0;
    if (v7State.seq === 0) v7State.msecs++;
  }
  const { msecs: ms, seq } = v7State;
  // uuid's v7Bytes: 48-bit milliseconds, version 7, 12 + 2 + 18 bits of counter, variant 10, random tail.
  return (
    `${HEX[(ms / 0x10000000000) & 0xff]}${HEX[(ms / 0x100000000) & 0xff]}` +
    `${HEX[(ms / 0x1000000) & 0xff]}${HEX[(ms / 0x10000) & 0xff]}-` +
    `${HEX[(ms / 0x100) & 0xff]}${HEX[ms & 0xff]}-` +
    `${HEX[0x70 | ((seq >>> 28) & 0x0f)]}${HEX[(seq >>> 20) & 0xff]}-` +
    `${HEX[0x80 | ((seq >>> 14) & 0x3f)]}${HEX[(seq >>> 6) & 0xff]}-` +
    `${HEX[((seq << 2) & 0xff) | (r[o + 10]! & 0x03)]}${HEX[r[o + 11]!]}${HEX[r[o + 12]!]}` +
    `${HEX[r[o + 13]!]}${HEX[r[o + 14]!]}${HEX[r[o + 15]!]}`
  );
}
