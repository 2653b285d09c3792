import type { Command } from 'commander';
import { recordCliAdminAction } from '../cli-admin-action.js';
import { systemClock } from '../../core/clock.js';
import { eraseSubject } from '../../privacy/erase-subject.js';
import { assertUserNotHeld } from '../../retention/holds.js';
import { isPostgresUrl } from '../../store/postgres-url.js';
import { configFor, globals, openStoreWithTables, println, type CliContext } from '../cli-context.js';

/**
 * What a PostgreSQL store still holds after an erase (docs/privacy.md): the UPDATE leaves the old
 * row version, wrapped key included, until VACUUM reclaims it, and in WAL segments and backups.
 */
export const POSTGRES_ERASE_REMAINS =
  'PostgreSQL keeps the old row version (with the wrapped key) until VACUUM reclaims it, and in WAL segments and base backups until they expire; run VACUUM data_keys in the store schema to reclaim it now (docs/privacy.md)';

export function registerErase(program: Command, ctx: CliContext): void {
  program
    .command('erase')
    .description(
      "erase one person's stored content by destroying their data key (crypto-shredding); the chain still verifies (PostgreSQL: every replica's keys for the person, dropped by each replica within 1 s); refused while a legal hold covers the person (tollgate hold list)",
    )
    .requiredOption('--user <id>', 'the user id whose content to erase')
    .action(async (opts: { user: string }, cmd: Command) => {
      const g = globals(cmd);
      const db = configFor(ctx, g).db;
      const s = await openStoreWithTables(db);
      try {
        // Held data is never erased: refuse, naming the hold (TG_ERR_RETENTION_HELD), before any key is touched.
        await assertUserNotHeld(s.opened.store, opts.user);
        // No polling: this run only destroys (on PostgreSQL, every replica's keys for the person).
        const result = await eraseSubject(await s.tables.dataKeys({ refreshMs: 0 }), opts.user, systemClock);
        const event = await recordCliAdminAction(
          s.opened.store,
          // Every destroyed key (PostgreSQL replicas may each have made one for the person), so the
          // trail tells which `enc:v1:<keyId>:…` values became unreadable; none when nothing was live.
          {
            action: 'admin:erase',
            actor: 'cli',
            subject: erasedKeysSubject(result.keyIds),
            userId: opts.user,
            ok: true,
          },
          systemClock,
        );
        const remains = isPostgresUrl(db) && result.keysDestroyed > 0 ? POSTGRES_ERASE_REMAINS : null;
        if (g.json)
          println(
            ctx.stdout,
            JSON.stringify({ ...result, event_id: event.id, ...(remains !== null ? { remains } : {}) }),
          );
        else if (result.keysDestroyed === 0) {
          println(
            ctx.stdout,
            `no live data key for this user (nothing encrypted, or already erased); recorded as event ${event.id}`,
          );
        } else {
          println(
            ctx.stdout,
            `erased: data key${result.keysDestroyed > 1 ? 's' : ''} ${result.keyIds.join(', ')} destroyed; their encrypted content can no longer be read.`,
          );
          println(
            ctx.stdout,
            `recorded as event ${event.id}; every other event is untouched and the chain still verifies.`,
          );
          if (remains !== null) println(ctx.stdout, `note: ${remains}.`);
        }
      } finally {
        await s.close();
      }
    });
}

/**
 * The subject of the erase event: the destroyed data-key ids, comma-separated (ids are base64url,
 * so never contain a comma), or null when no key was live. Random ids, never the user id.
 */
export function erasedKeysSubject(keyIds: readonly string[]): string | null {
  return keyIds.length === 0 ? null : [...keyIds].sort().join(',');
}
