/**
 * A store location fit for a log line: a URL loses its user name and password
 * (`postgres://tollgate:s3cret@db/x` → `postgres://db/x`); a file path is returned as it is.
 */
export function urlWithoutCredentials(spec: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) return spec;
  try {
    const u = new URL(spec);
    if (!u.username && !u.password) return spec;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    // Unparseable but URL-shaped: keep only the scheme rather than risk echoing a credential.
    return `${spec.slice(0, spec.indexOf('://'))}://…`;
  }
}
