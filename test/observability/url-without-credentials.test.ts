import { describe, expect, it } from 'vitest';
import { urlWithoutCredentials } from '../../src/observability/url-without-credentials.js';

describe('store location in log lines', () => {
  it('drops a URL user and password, keeps paths', () => {
    expect(urlWithoutCredentials('postgres://tollgate:s3cret@db.internal:5432/audit?schema=t')).toBe(
      'postgres://db.internal:5432/audit?schema=t',
    );
    expect(urlWithoutCredentials('postgresql://only-user@db/x')).toBe('postgresql://db/x');
    expect(urlWithoutCredentials('postgres://db/x')).toBe('postgres://db/x');
    expect(urlWithoutCredentials('./data/tollgate.db')).toBe('./data/tollgate.db');
    expect(urlWithoutCredentials('postgres://u:p@[bad')).toBe('postgres://…');
  });
});
