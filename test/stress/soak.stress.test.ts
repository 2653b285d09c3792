/**
 * The soak (bench/soak.ts) in a bounded form: a steady load through a whole Tollgate (redaction,
 * detection, chain, SQLite) in its own process. Every request served has its event written, none
 * failed, and the server's RSS after warm-up grows by at most 10%. Latency is printed, not
 * asserted (a loaded CI machine decides it); docs/reliability.md has the 10-minute numbers.
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soak.js';
import { stressProfile } from './support/stress-profile.js';

const profile = stressProfile();

describe(`soak (${profile.name}: ${profile.soakMs / 1000} s)`, () => {
  it('steady load: events written = requests served, no failures, RSS flat after warm-up', async () => {
    // RSS climbs for about the first minute (V8 heap and SQLite cache reach their working size),
    // then stays flat: the comparison starts after 60% of the run.
    const r = await runSoak({
      durationMs: profile.soakMs,
      rps: 150,
      warmupMs: Math.round(profile.soakMs * 0.6),
      progress: (l) => console.log(l),
    });
    console.log(`[soak] ${JSON.stringify(r)}`);
    expect(r.failed).toBe(0);
    expect(r.skippedAfterWarmup).toBe(0);
    expect(r.completed).toBe(r.sent);
    expect(r.eventsWritten).toBe(r.completed);
    expect(r.eventsDropped).toBe(0);
    expect(r.eventsSpooled).toBe(0);
    expect(r.rssGrowthPct).toBeLessThanOrEqual(10);
  });
});
