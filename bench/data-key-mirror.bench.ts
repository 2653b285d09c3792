/**
 * Heap held by a replica's PostgreSQL data-key mirror as people accumulate: with the default-sized
 * cap (20,000 people) it stops growing at the cap; with a cap out of reach it grows per person.
 * Prints MB above the baseline every 20,000 people, and bytes per mirrored person.
 *
 *   node --expose-gc --import tsx bench/data-key-mirror.bench.ts   (TOLLGATE_BENCH_PG_URL, default the local test database)
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresDataKeyStore } from '../src/store/postgres/postgres-data-keys.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const heap = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const pool = new pg.Pool({
  connectionString: process.env.TOLLGATE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  max: 4,
});
const people = 100_000;
try {
  for (const cap of [20_000, 1_000_000]) {
    const schema = `tg_bench_dk_${process.pid}_${cap}`;
    const store = await PostgresDataKeyStore.open(pool, {
      schema,
      refreshMs: 60_000,
      listen: false,
      mirrorCap: cap,
    });
    const base = heap();
    const marks: string[] = [];
    for (let i = 0; i < people; i++) {
      // 30-character user ids, as in the measurement quoted in docs/privacy.md.
      store.putIfAbsent({
        keyId: randomBytes(12).toString('base64url'),
        subject: `user:person-${i}@example.com`,
        wrapped: randomBytes(60),
        createdAtMs: Date.now(),
      });
      if ((i + 1) % 10_000 === 0) await store.flush();
      if ((i + 1) % 20_000 === 0)
        marks.push(`${i + 1}: ${((heap() - base) / 1e6).toFixed(1)} MB (mirror ${store.mirrorSize()})`);
    }
    console.log(
      `cap ${cap}: ${marks.join('; ')}; ${((heap() - base) / store.mirrorSize()).toFixed(0)} B per mirrored person`,
    );
    await store.close();
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  }
} finally {
  await pool.end();
}
