/**
 * Debian's Prometheus (`apt-get install -y prometheus`: `promtool` and `prometheus`) for the ops
 * stack tests. Without it they skip with a visible reason; with `TOLLGATE_TEST_REQUIRE_SERVICES=1`
 * (set by `.ci/run`, which installs it) a missing binary fails the run, like Chromium.
 */
import { existsSync } from 'node:fs';
import { servicesRequired } from './services.js';

export const PROMTOOL_PATH = '/usr/bin/promtool';
export const PROMETHEUS_PATH = '/usr/bin/prometheus';

/** True when both binaries are installed; warns (or throws when required) otherwise. */
export function prometheusAvailable(): boolean {
  const missing = [PROMTOOL_PATH, PROMETHEUS_PATH].filter((p) => !existsSync(p));
  if (missing.length === 0) return true;
  const reason = `${missing.join(' and ')} not found (apt-get install -y prometheus)`;
  if (servicesRequired())
    throw new Error(`Prometheus is required (TOLLGATE_TEST_REQUIRE_SERVICES=1) but ${reason}`);
  console.warn(`[skipped] Prometheus rule and scrape tests: ${reason}`);
  return false;
}
