import { describe, expect, it } from 'vitest';
import { TollgateError } from './errors.js';
import { loadOptional, missingPackage, POSTGRES_PACKAGES } from './optional-dependency.js';

/** The error Node raises for an absent package (the shape checked, not the wording around it). */
function notFound(specifier: string): Error {
  return Object.assign(new Error(`Cannot find package '${specifier}' imported from /x/y.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

describe('optional peers', () => {
  it('a missing package of the feature becomes TG_ERR_DEPENDENCY_MISSING naming it and the install command', async () => {
    const err = await loadOptional(POSTGRES_PACKAGES, () =>
      Promise.reject(notFound('pg-copy-streams')),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TollgateError);
    expect(err).toMatchObject({
      code: 'TG_ERR_DEPENDENCY_MISSING',
      detail: {
        package: 'pg-copy-streams',
        feature: 'PostgreSQL store',
        install: 'npm install pg pg-copy-streams',
      },
    });
  });
  it('other failures pass through unchanged (a missing module of our own is a bug, not a peer)', async () => {
    const own = notFound('./postgres-event-store.js');
    await expect(loadOptional(POSTGRES_PACKAGES, () => Promise.reject(own))).rejects.toBe(own);
    const boom = new Error('boom');
    await expect(loadOptional(POSTGRES_PACKAGES, () => Promise.reject(boom))).rejects.toBe(boom);
    await expect(loadOptional(POSTGRES_PACKAGES, () => Promise.resolve(7))).resolves.toBe(7);
  });
  it('matches a subpath import of the package too', () => {
    expect(missingPackage(notFound('pg/lib/client'), ['pg'])).toBe('pg');
    expect(missingPackage(notFound('pgx'), ['pg'])).toBeNull();
  });
});
