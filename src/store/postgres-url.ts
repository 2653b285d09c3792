/**
 * True for `postgres://` and `postgresql://` URLs (libpq's two schemes, any case): the one test of
 * "is this `--db` value PostgreSQL" (store choice, writer batch size, data folder, store identity).
 */
export function isPostgresUrl(dbSpec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(dbSpec);
}
