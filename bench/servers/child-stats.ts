/**
 * For benchmark servers run as child processes: answer the parent's `stats` message with this
 * process's CPU time and peak RSS, so the parent measures the server alone, not the load generator.
 */
export function serveStats(): void {
  process.on('message', (msg: unknown) => {
    if (msg === 'exit') process.exit(0); // lets --cpu-prof write its profile
    if (msg === 'stats') {
      const cpu = process.cpuUsage();
      process.send?.({
        cpuMicros: cpu.user + cpu.system,
        maxRssKb: process.resourceUsage().maxRSS,
        rss: process.memoryUsage().rss,
      });
    }
  });
}

/** Tells the parent where the server listens. */
export function announce(port: number): void {
  process.send?.({ port });
}
