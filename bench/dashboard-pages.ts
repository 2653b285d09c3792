/**
 * The dashboard pages and admin API reads the issue-22 benches time (SQLite in dashboard.bench.ts,
 * PostgreSQL in postgres-scale.bench.ts), and the p50/p95/max timing both print next to the
 * 500 ms target.
 */
import type { RunningTollgate } from '../src/app/start-tollgate.js';

export interface Timing {
  p50: number;
  p95: number;
  max: number;
}

export function stats(xs: number[]): Timing {
  const s = [...xs].sort((a, b) => a - b);
  return {
    p50: s[Math.floor(s.length / 2)]!,
    p95: s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]!,
    max: s[s.length - 1]!,
  };
}

/** `fn` once as a warm-up, then `runs` times; p50/p95/max in ms. */
export async function timed(fn: () => unknown, runs: number): Promise<Timing> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await fn();
    times.push(performance.now() - s);
  }
  return stats(times);
}

export const TARGET_MS = 500;

export const row = (name: string, st: Timing, extra = ''): string =>
  `${name.padEnd(44)} ${st.p50.toFixed(1).padStart(8)} ${st.p95.toFixed(1).padStart(8)} ${st.max.toFixed(1).padStart(8)}  ${st.p95 <= TARGET_MS ? 'ok  ' : 'SLOW'} ${extra}`;

export const header = (first: string): void =>
  console.log(
    `${first.padEnd(44)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'max ms'.padStart(8)}  target ≤ ${TARGET_MS} ms at p95`,
  );

/** Every dashboard page and admin API read timed, by name and path; `user` and `eventId` exist in the store. */
export function dashboardPages(user: string, eventId: string): [string, string][] {
  return [
    ['UI live events (newest 50)', '/ui/events'],
    ['UI events, user filter', `/ui/events?user=${user}`],
    ['UI events, status AUTH_FAILED', '/ui/events?status=AUTH_FAILED'],
    ['UI events, feature + model', '/ui/events?feature=agent&model=o3'],
    ['UI events, live refresh rows', '/ui/events?fragment=rows'],
    ['UI event detail', `/ui/events/${eventId}`],
    ['UI cost, 24h by feature', '/ui/cost'],
    ['UI cost, 30d by user', '/ui/cost?by=user&since=30d'],
    ['UI cost, 7d by session', '/ui/cost?by=session&since=7d'],
    ['UI cost, 30d by session', '/ui/cost?by=session&since=30d'],
    ['UI cost, 30d by feature (+growing, 30d)', '/ui/cost?by=feature&since=30d'],
    ['UI security, 24h', '/ui/security'],
    ['UI security, 7d', '/ui/security?since=7d'],
    ['UI security, 30d', '/ui/security?since=30d'],
    ['UI integrity', '/ui/integrity'],
    ['API events?limit=100', '/admin/events?limit=100'],
    ['API cost 30d by model', '/admin/reports/cost?by=model&since=30d'],
    ['API security 24h', '/admin/reports/security'],
    ['API security 30d', '/admin/reports/security?since=30d'],
    ['API cost 30d by session (top 100)', '/admin/reports/cost?by=session&since=30d'],
    ['API cost 30d by session, limit 1000', '/admin/reports/cost?by=session&since=30d&limit=1000'],
    ['API integrity', '/admin/integrity'],
  ];
}

/**
 * Times each page through the running gateway, server side to the full response (fetch), and
 * prints a row per page; returns the timings by name.
 */
export async function timePages(
  tg: RunningTollgate,
  pages: readonly [string, string][],
  runs: number,
): Promise<Map<string, Timing>> {
  const session = tg.admin.console.sessions.create();
  const out = new Map<string, Timing>();
  header('page');
  for (const [name, path] of pages) {
    const headers: Record<string, string> = path.startsWith('/admin')
      ? { authorization: `Bearer ${tg.admin.token.token}` }
      : { cookie: `tg_session=${session.id}` };
    let bytes = 0;
    const st = await timed(async () => {
      const res = await fetch(`${tg.url}${path}`, { headers });
      const body = await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
      bytes = body.byteLength;
    }, runs);
    out.set(name, st);
    console.log(row(name, st, `${(bytes / 1024).toFixed(0)} KB`));
  }
  return out;
}
