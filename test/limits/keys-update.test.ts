import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../support/run-cli.js';
import { managedSetup, type ManagedSetup } from './managed-setup.js';

/** `tollgate keys update` against a running managed-mode gateway on the same SQLite store. */
describe('tollgate keys update', () => {
  let s: ManagedSetup | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  const ask = (key: string, model = 'gpt-4o-mini') =>
    s!
      .client(key)
      .chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => 200,
        (err: { status?: number }) => err.status ?? 0,
      );

  it('lifts a limit and widens the models for the very next request, with the same key, audited', async () => {
    s = await managedSetup();
    const { key, id } = await s.newKey({ rpm: 1, allowedModels: ['gpt-4o-mini'] });
    expect(await ask(key)).toBe(200);
    expect(await ask(key)).toBe(429);
    expect(await ask(key, 'gpt-4o')).toBe(403);

    const out = await cli(['keys', 'update', id, '--db', s.db, '--rpm', 'none', '--models', '*', '--json']);
    expect(out.code).toBe(0);
    const shown = JSON.parse(out.out);
    expect(shown).toMatchObject({ id, rpm: null, allowedModels: '*', status: 'active' });
    expect(out.out).not.toContain('keyHash');
    expect(out.out).not.toContain(key.slice(8));

    expect(await ask(key)).toBe(200);
    expect(await ask(key, 'gpt-4o')).toBe(200);

    const human = await cli(['keys', 'update', id, '--db', s.db, '--tpm', '5000', '--budget-usd', '2']);
    expect(human.out).toBe(`updated ${id} (test): tpm, budgetMicroUsd\n`);
    const listed = JSON.parse((await cli(['keys', 'list', '--db', s.db, '--json'])).out.trim());
    expect(listed).toMatchObject({ tpm: 5000, budgetMicroUsd: 2_000_000, budgetPeriod: 'month' });

    const admin = (await s.events()).filter((e) => e.endpoint === 'admin:keys.update');
    expect(admin.map((e) => [e.virtual_key_id, e.auth_result])).toEqual([
      [id, 'SUCCESS'],
      [id, 'SUCCESS'],
    ]);
  });

  it('refuses a revoked key, an unknown id, bad values and no change, each with a clear error', async () => {
    s = await managedSetup();
    const { key, id } = await s.newKey({ rpm: 5 });
    expect((await cli(['keys', 'revoke', id, '--db', s.db])).code).toBe(0);

    const revoked = await cli(['keys', 'update', id, '--db', s.db, '--rpm', '50']);
    expect(revoked.code).not.toBe(0);
    expect(revoked.err).toContain('the key is revoked');
    expect(await ask(key)).toBe(401);

    const unknown = await cli(['keys', 'update', 'vk_nope', '--db', s.db, '--rpm', '50']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.err).toContain('no key with this id');

    const other = await s.newKey({ rpm: 5 });
    for (const bad of [
      ['--rpm', '0'],
      ['--budget-usd', '-1'],
      ['--expires', 'yesterday'],
      ['--period', 'week'],
      ['--expires', '2020-01-01'],
    ]) {
      const r = await cli(['keys', 'update', other.id, '--db', s.db, ...bad]);
      expect(r.code, bad.join(' ')).not.toBe(0);
      expect(r.err, bad.join(' ')).toContain('TG_ERR_USAGE');
    }
    const nothing = await cli(['keys', 'update', other.id, '--db', s.db]);
    expect(nothing.err).toContain('nothing to change');
    const listed = (await cli(['keys', 'list', '--db', s.db, '--json'])).out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(listed.find((k: { id: string }) => k.id === other.id)).toMatchObject({
      rpm: 5,
      budgetMicroUsd: null,
    });
    const admin = (await s.events()).filter((e) => e.endpoint === 'admin:keys.update');
    // Options the CLI cannot parse are refused before the store is opened; a value the key check
    // refuses (an expiry in the past) is an audited failed action.
    expect(admin.map((e) => e.error_code)).toEqual(['revoked', 'not_found', 'TG_ERR_USAGE']);
  });
});
