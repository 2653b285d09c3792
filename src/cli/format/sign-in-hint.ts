import type { RunningTollgate } from '../../app/start-tollgate.js';

/**
 * The lines `serve` and `demo --serve` print once at start: where the dashboard is, a one-time
 * sign-in link (issued here, so each start prints a fresh one), and where the admin token lives
 * for later sign-ins and scripts. The admin token itself is never printed.
 */
export function signInHint(tg: Pick<RunningTollgate, 'url' | 'admin'>): string[] {
  const links = tg.admin.console.loginLinks;
  const link = `${tg.url}/ui/login?link=${links.issue()}`;
  const minutes = Math.round(links.ttlMs / 60_000);
  const token =
    tg.admin.token.source === 'configured'
      ? 'the configured admin_token (TOLLGATE_ADMIN_TOKEN)'
      : `the admin token in ${tg.admin.path}`;
  return [
    `dashboard: ${tg.url}/ui/`,
    `  sign in with this link (works once, for ${minutes} minutes): ${link}`,
    `  afterwards, or from scripts (Authorization: Bearer …), use ${token}`,
  ];
}
