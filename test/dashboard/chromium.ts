/**
 * Debian's Chromium for the browser tests, driven by playwright-core. Without it the tests skip
 * with a visible reason; with `TOLLGATE_TEST_REQUIRE_SERVICES=1` (set by `.ci/run`, which installs
 * it) a missing Chromium fails the run instead, like the other services (test/support/services.ts).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { servicesRequired } from '../support/services.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** True when the browser tests can run; warns (or throws when required) otherwise. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  const reason = `${CHROMIUM_PATH} not found (apt-get install -y chromium)`;
  if (servicesRequired())
    throw new Error(`Chromium is required (TOLLGATE_TEST_REQUIRE_SERVICES=1) but ${reason}`);
  console.warn(`[skipped] dashboard browser tests: ${reason}`);
  return false;
}

/** Launches headless Chromium with no network side-traffic of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
