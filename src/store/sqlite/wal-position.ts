/** Where the WAL stands: frames written since it last restarted, and how many are copied back. */
export interface WalPosition {
  mxFrame: number;
  nBackfill: number;
}

/**
 * The WAL's position, read from the wal-index header at the start of the `-shm` file
 * (https://www.sqlite.org/walformat.html §2.1, stable since 3.7.0): two copies of the 48-byte
 * WalIndexHdr (iVersion at 0, isInit at 12, mxFrame at 16), then WalCkptInfo (nBackfill at 96),
 * in the machine's byte order. Null for a header that is not initialised, of another version, or
 * caught while a writer updates it (its two copies differ).
 */
export function walPosition(header: Uint8Array): WalPosition | null {
  if (header.length < 100) return null;
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const u32 = (at: number): number => view.getUint32(at, LITTLE_ENDIAN);
  if (u32(0) !== 3007000 || header[12] !== 1) return null;
  const mxFrame = u32(16);
  if (u32(48 + 16) !== mxFrame) return null;
  const nBackfill = u32(96);
  return nBackfill <= mxFrame ? { mxFrame, nBackfill } : null;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
