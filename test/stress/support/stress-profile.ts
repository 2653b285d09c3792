/**
 * How hard the stress suite pushes. `ci` (TOLLGATE_STRESS_PROFILE=ci, used by `.ci/run`) must fit in
 * about 15 minutes on a loaded 2-core machine; `full` (the default) is what docs/reliability.md reports.
 */
export interface StressProfile {
  name: 'ci' | 'full';
  /** SIGKILLs per failure policy in the crash test. */
  kills: number;
  /** SIGKILLs while the store is down and the spool fills. */
  spoolKills: number;
  /** fast-check runs per property. */
  propertyRuns: number;
  /** Rounds of the memory check. */
  memoryRounds: number;
  /** Length of the soak run inside the suite, ms. */
  soakMs: number;
}

export function stressProfile(): StressProfile {
  if (process.env.TOLLGATE_STRESS_PROFILE === 'ci') {
    return { name: 'ci', kills: 10, spoolKills: 3, propertyRuns: 60, memoryRounds: 4, soakMs: 150_000 };
  }
  return { name: 'full', kills: 50, spoolKills: 10, propertyRuns: 400, memoryRounds: 8, soakMs: 300_000 };
}
