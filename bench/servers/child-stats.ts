import { PerformanceObserver } from 'node:perf_hooks';

/**
 * For benchmark servers run as child processes: answer the parent's `stats` message with this
 * process's CPU time, peak RSS and garbage-collection pauses so far (count and total ms, all kinds),
 * so the parent measures the server alone, not the load generator.
 */
export function serveStats(): void {
  let gcPauses = 0;
  let gcMs = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcPauses++;
      gcMs += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (msg: unknown) => {
    if (msg === 'exit') process.exit(0); // lets --cpu-prof write its profile
    if (msg === 'stats') {
      const cpu = process.cpuUsage();
      process.send?.({
        cpuMicros: cpu.user + cpu.system,
        maxRssKb: process.resourceUsage().maxRSS,
        rss: process.memoryUsage().rss,
        gcPauses,
        gcMs,
      });
    }
  });
}

/** Tells the parent where the server listens. */
export function announce(port: number): void {
  process.send?.({ port });
}
