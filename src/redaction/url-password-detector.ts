/**
 * Passwords in URL userinfo (RFC 3986 §3.2.1, `scheme://user:password@host`): database
 * connection strings (gitleaks has no single rule for these; its `generic-api-key` misses
 * them, see its TODO for `password=` in connection strings) and any other URL that carries one.
 * Only the password is replaced, so the host and database stay readable.
 * Anchored on "://" with bounded scans either side.
 */
import type { Detector, Finding, SecretType } from './detector.js';
import { isAsciiLetter, isDigit } from './char-classes.js';
import { isPlaceholderValue } from './placeholder-values.js';

const DATABASE_SCHEMES = new Set([
  'postgres',
  'postgresql',
  'mysql',
  'mysqlx',
  'mariadb',
  'mongodb',
  'mongodb+srv',
  'redis',
  'rediss',
  'amqp',
  'amqps',
  'mssql',
  'sqlserver',
  'cockroachdb',
  'clickhouse',
  'oracle',
  'cassandra',
  'neo4j',
  'neo4j+s',
  'couchdb',
  'memcached',
]);

const MAX_SCHEME = 24;
const MAX_USERINFO = 256;

function isSchemeChar(c: number): boolean {
  return isAsciiLetter(c) || isDigit(c) || c === 43 || c === 45 || c === 46;
}

/**
 * Characters that end an authority before any '@' (RFC 3986 §3.2) or end the URL in prose.
 * '?' and '#' are not among them: people paste passwords with those unencoded.
 */
function endsUserinfo(c: number): boolean {
  // whitespace, / " ' ` < > and control characters
  return c <= 32 || c === 47 || c === 34 || c === 39 || c === 96 || c === 60 || c === 62;
}

export class UrlPasswordDetector implements Detector {
  readonly type: SecretType = 'db_password';

  /** `database`: report `db_password` for database schemes; `other`: report `password` for the rest. */
  constructor(private readonly enabled: { database: boolean; other: boolean }) {}

  find(text: string, out: Finding[]): void {
    let from = 0;
    for (;;) {
      const sep = text.indexOf('://', from);
      if (sep < 0) return;
      from = sep + 3;
      let s = sep;
      while (s > 0 && sep - s < MAX_SCHEME && isSchemeChar(text.charCodeAt(s - 1))) s--;
      // RFC 3986 §3.1: a scheme starts with a letter ("(+postgres://" is "postgres").
      while (s < sep && !isAsciiLetter(text.charCodeAt(s))) s++;
      if (s === sep) continue;
      const scheme = text.slice(s, sep).toLowerCase();
      const isDatabase = DATABASE_SCHEMES.has(scheme);
      if (isDatabase ? !this.enabled.database : !this.enabled.other) continue;
      let at = -1;
      let colon = -1;
      const limit = Math.min(text.length, from + MAX_USERINFO);
      for (let i = from; i < limit; i++) {
        const c = text.charCodeAt(i);
        if (c === 64)
          at = i; // the last '@' before the host wins (RFC 3986: userinfo may not contain '@')
        else if (endsUserinfo(c)) break;
        else if (c === 58 && colon < 0 && at < 0) colon = i;
      }
      if (at < 0 || colon < 0 || colon > at) continue;
      const start = colon + 1;
      if (start >= at || isPlaceholderValue(text.slice(start, at))) continue;
      out.push({ type: isDatabase ? 'db_password' : 'password', start, end: at });
      from = at + 1;
    }
  }
}
