/** A small seeded PRNG (mulberry32) so a failing stress run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: TOLLGATE_STRESS_SEED, or the clock (printed by the tests that use it). */
export function stressSeed(): number {
  const s = Number(process.env.TOLLGATE_STRESS_SEED);
  return Number.isSafeInteger(s) ? s : Date.now() % 1_000_000_007;
}
