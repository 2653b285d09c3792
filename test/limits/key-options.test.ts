/**
 * Two per-key options of `tollgate keys create` (issue 20), through the real `openai` client:
 * `--concurrent N` (requests in flight at once; stored, listed, enforced like the config limits)
 * and `--allow-attribution-override` (without it the key's user and team win over the
 * x-tollgate-user / x-tollgate-team headers; with it the headers win).
 */
import OpenAI, { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../support/run-cli.js';
import { managedSetup, type ManagedSetup } from './managed-setup.js';

const ask = (c: OpenAI): Promise<APIError | null> =>
  c.chat.completions
    .create({ model: 'gpt-4.1', max_tokens: 20, messages: [{ role: 'user', content: 'hello' }] })
    .then(
      () => null,
      (err: unknown) => {
        if (err instanceof APIError) return err;
        throw err;
      },
    );

/** The plaintext key `tollgate keys create --json` printed. */
async function createWithCli(db: string, args: string[]): Promise<{ key: string; id: string }> {
  const r = await cli(['keys', 'create', '--db', db, '--json', '--name', 'opts', ...args]);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as { key: string; id: string };
}

describe('gateway key options', () => {
  let s: ManagedSetup;
  afterEach(async () => s?.close());

  it('--concurrent 2: two requests in flight, the rest refused naming the limit; stored and listed', async () => {
    s = await managedSetup();
    const { key, id } = await createWithCli(s.db, ['--concurrent', '2']);
    const listed = await cli(['keys', 'list', '--db', s.db, '--json']);
    expect(JSON.parse(listed.out.trim().split('\n').at(-1)!)).toMatchObject({ id, concurrent: 2 });
    const table = await cli(['keys', 'list', '--db', s.db]);
    expect(table.out).toMatch(/concurrent/);
    expect(table.out.split('\n').find((l) => l.startsWith(id))).toMatch(/\s2\s/);

    const c = s.client(key);
    // Hold the admitted ones at the provider, so they are in flight together.
    s.mock.enqueue({ delayMs: 400 }, { delayMs: 400 });
    const results = await Promise.all(Array.from({ length: 5 }, () => ask(c)));
    expect(results.filter((r) => r === null)).toHaveLength(2);
    const refused = results.filter((r): r is APIError => r !== null);
    expect(refused).toHaveLength(3);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.code).toBe('TG_ERR_POLICY_RATE_LIMIT');
      expect(r.message).toContain(`limit: concurrent key ${id}`);
    }
    // The slots come back when the requests end.
    expect(await ask(c)).toBeNull();
    const blocked = (await s.events()).filter((e) => e.status === 'BLOCKED');
    expect(blocked).toHaveLength(3);
    expect(blocked.every((e) => e.error_message?.includes(`concurrent key ${id}`))).toBe(true);
  });

  it('without --allow-attribution-override the key speaks for its user and team; with it, headers win', async () => {
    s = await managedSetup();
    const fixed = await createWithCli(s.db, ['--user', 'alice', '--team', 'payments']);
    const open = await createWithCli(s.db, [
      '--user',
      'svc-batch',
      '--team',
      'platform',
      '--allow-attribution-override',
    ]);
    const headers = { 'x-tollgate-user': 'mallory', 'x-tollgate-team': 'growth' };
    expect(await ask(s.client(fixed.key, headers))).toBeNull();
    expect(await ask(s.client(open.key, headers))).toBeNull();
    // A header left out falls back to the key's own value.
    expect(await ask(s.client(open.key, { 'x-tollgate-user': 'bob' }))).toBeNull();
    const events = await s.events();
    const of = (id: string) =>
      events.filter((e) => e.virtual_key_id === id && e.endpoint === '/chat/completions');
    expect(of(fixed.id).map((e) => [e.user_id, e.team])).toEqual([['alice', 'payments']]);
    expect(of(open.id).map((e) => [e.user_id, e.team])).toEqual([
      ['mallory', 'growth'],
      ['bob', 'platform'],
    ]);
    const listed = (await cli(['keys', 'list', '--db', s.db, '--json'])).out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; allowAttributionOverride: boolean });
    expect(listed.find((k) => k.id === fixed.id)?.allowAttributionOverride).toBe(false);
    expect(listed.find((k) => k.id === open.id)?.allowAttributionOverride).toBe(true);
  });
});
