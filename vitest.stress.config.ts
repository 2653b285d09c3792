import { defineConfig } from 'vitest/config';

/**
 * The stress suite (docs/reliability.md): crash, outage, hostile input, smuggling and a short soak.
 * Not part of `npm test`; `.ci/run` runs it with TOLLGATE_STRESS_PROFILE=ci (bounded counts).
 * Files run one at a time: each one loads the machine on purpose, and they must not skew each other.
 */
export default defineConfig({
  test: {
    include: ['test/stress/**/*.stress.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    // The soak and heap checks call global.gc().
    execArgv: ['--expose-gc'],
  },
});
