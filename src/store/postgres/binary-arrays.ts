/**
 * One-dimensional PostgreSQL arrays in the binary wire format (array_recv), for the multi-row
 * upserts' `unnest($n::bigint[])` parameters. node-postgres sends a Buffer parameter as binary;
 * the server then reads each element as 8 or 2 bytes instead of parsing the text form, and the
 * client skips building and escaping array literals (bench/postgres.bench.ts).
 *
 * Layout: ndim, has-nulls flag, element type OID, then per dimension its length and lower bound,
 * then per element its byte length and bytes (big-endian). No nulls are ever sent.
 */
const INT8_OID = 20;
const INT2_OID = 21;
const TEXT_OID = 25;
const HEADER = 20;
const TWO_32 = 2 ** 32;

function header(buf: Buffer, oid: number, n: number): void {
  buf.writeInt32BE(1, 0);
  buf.writeInt32BE(0, 4);
  buf.writeInt32BE(oid, 8);
  buf.writeInt32BE(n, 12);
  buf.writeInt32BE(1, 16);
}

/** bigint[] from safe integers (what rollup sums and epoch milliseconds are). */
export function int8Array(values: readonly number[]): Buffer {
  const buf = Buffer.allocUnsafe(HEADER + values.length * 12);
  header(buf, INT8_OID, values.length);
  let o = HEADER;
  for (const v of values) {
    if (!Number.isSafeInteger(v)) throw new RangeError(`not a safe integer: ${v}`);
    const hi = Math.floor(v / TWO_32);
    buf.writeInt32BE(8, o);
    buf.writeInt32BE(hi, o + 4);
    buf.writeUInt32BE(v - hi * TWO_32, o + 8);
    o += 12;
  }
  return buf;
}

/** smallint[]. */
export function int2Array(values: readonly number[]): Buffer {
  const buf = Buffer.allocUnsafe(HEADER + values.length * 6);
  header(buf, INT2_OID, values.length);
  let o = HEADER;
  for (const v of values) {
    buf.writeInt32BE(2, o);
    buf.writeInt16BE(v, o + 4);
    o += 6;
  }
  return buf;
}

/** text[] (UTF-8). */
export function textArray(values: readonly string[]): Buffer {
  let size = HEADER;
  const lengths = values.map((s) => {
    const n = Buffer.byteLength(s);
    size += 4 + n;
    return n;
  });
  const buf = Buffer.allocUnsafe(size);
  header(buf, TEXT_OID, values.length);
  let o = HEADER;
  values.forEach((s, i) => {
    buf.writeInt32BE(lengths[i]!, o);
    o += 4;
    o += buf.write(s, o, 'utf8');
  });
  return buf;
}
