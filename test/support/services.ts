/**
 * The external services integration tests need (PostgreSQL, Redis): where they are, whether they
 * answer, and what a test file does when they do not.
 *
 * `npm test` on a laptop without them skips those tests with a visible reason; `.ci/run` sets
 * `TOLLGATE_TEST_REQUIRE_SERVICES=1`, and then an unreachable service fails the run instead of
 * skipping it silently (a skipped integration test in CI is a test that never runs).
 */
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface Service {
  name: 'PostgreSQL' | 'Redis';
  url: string;
  available: boolean;
  /** Why it is not available (for the skip note); empty when it is. */
  reason: string;
}

const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** True when `.ci/run` (or a developer) requires the services: unreachable ones fail the run. */
export function servicesRequired(): boolean {
  return process.env.TOLLGATE_TEST_REQUIRE_SERVICES === '1';
}

/** The PostgreSQL URL for tests (`TOLLGATE_TEST_PG_URL`, default the local `test` database). */
export function postgresUrl(): string {
  return process.env.TOLLGATE_TEST_PG_URL || DEFAULT_PG_URL;
}

/** The Redis URL for tests (`TOLLGATE_TEST_REDIS_URL`, default the local server). */
export function redisUrl(): string {
  return process.env.TOLLGATE_TEST_REDIS_URL || DEFAULT_REDIS_URL;
}

/** A fast TCP reachability probe of the URL's host and port (no credentials exchanged). */
export function probe(url: string, defaultPort: number, timeoutMs = 1000): Promise<string> {
  const u = new URL(url);
  const host = u.hostname || '127.0.0.1';
  const port = u.port ? Number(u.port) : defaultPort;
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reason: string): void => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    socket.once('connect', () => done(''));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(`${host}:${port} unreachable (${err.code ?? err.name})`),
    );
  });
}

async function service(name: Service['name'], url: string, defaultPort: number): Promise<Service> {
  const reason = await probe(url, defaultPort);
  const s: Service = { name, url, available: reason === '', reason };
  if (!s.available) {
    if (servicesRequired()) {
      // Thrown at collection time, so the test file fails instead of skipping.
      throw new Error(`${name} is required (TOLLGATE_TEST_REQUIRE_SERVICES=1) but ${reason}`);
    }
    console.warn(
      `[skipped] ${name} tests: ${reason}; set TOLLGATE_TEST_${name === 'Redis' ? 'REDIS' : 'PG'}_URL or start the service to run them`,
    );
  }
  return s;
}

/** Probes PostgreSQL; call at the top of a test file and `describe.skipIf(!pg.available)`. */
export function postgresService(): Promise<Service> {
  return service('PostgreSQL', postgresUrl(), 5432);
}

/** Probes Redis; call at the top of a test file and `describe.skipIf(!redis.available)`. */
export function redisService(): Promise<Service> {
  return service('Redis', redisUrl(), 6379);
}

/** A fresh name for a per-file schema or key prefix, so parallel test files never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}
