/** The one seeded PRNG (mulberry32), so a failing stress run can be replayed with its seed. */
export { seededRandom } from '../../../src/core/seeded-random.js';

/** The seed of this run: TOLLGATE_STRESS_SEED, or the clock (printed by the tests that use it). */
export function stressSeed(): number {
  const s = Number(process.env.TOLLGATE_STRESS_SEED);
  return Number.isSafeInteger(s) ? s : Date.now() % 1_000_000_007;
}
