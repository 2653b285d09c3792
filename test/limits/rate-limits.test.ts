/**
 * Rate limits per key, user, team and feature — requests per minute, tokens per minute and
 * requests in flight — from config (`limits:`), each through the real `openai` client against one
 * managed gateway: the limit admits what it allows, then refuses with 429 TG_ERR_POLICY_RATE_LIMIT
 * naming the limit, with a BLOCKED event and no provider call.
 */
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managedSetup, type ManagedSetup } from './managed-setup.js';

type Scope = 'key' | 'user' | 'team' | 'feature';
type Kind = 'rpm' | 'tpm' | 'concurrent';
const SCOPES: Scope[] = ['key', 'user', 'team', 'feature'];
const KINDS: Kind[] = ['rpm', 'tpm', 'concurrent'];
/** rpm 2; tpm 100 (one request's worst case is capped at it, its real use ~15 is settled: the next one does not fit); 2 in flight. */
const LIMIT: Record<Kind, number> = { rpm: 2, tpm: 100, concurrent: 2 };

describe('rate limits per key, user, team and feature through the openai client', () => {
  let s: ManagedSetup & { first: string[] };
  const cases = SCOPES.flatMap((scope) => KINDS.map((kind) => ({ scope, kind })));

  beforeAll(async () => {
    s = await managedSetup(
      (ids) => ({
        limits: cases.map(({ scope, kind }) => ({
          scope,
          subject: scope === 'key' ? ids[KINDS.indexOf(kind)]! : `${scope}-${kind}`,
          [kind]: LIMIT[kind],
        })),
      }),
      { keysFirst: KINDS.map(() => ({})) },
    );
  });
  afterAll(async () => s?.close());

  /** A client of `scope`-`kind`: its own key for key limits, the subject in a header otherwise. */
  async function clientFor(scope: Scope, kind: Kind): Promise<OpenAI> {
    if (scope === 'key') return s.client(s.first[KINDS.indexOf(kind)]!);
    const { key } = await s.newKey(scope === 'team' ? { team: `team-${kind}` } : {});
    const header = scope === 'user' ? 'x-tollgate-user' : 'x-tollgate-feature';
    return s.client(key, scope === 'team' ? {} : { [header]: `${scope}-${kind}` });
  }

  const ask = (c: OpenAI) =>
    c.chat.completions
      .create({ model: 'gpt-4.1', max_tokens: 200, messages: [{ role: 'user', content: 'hello' }] })
      .then(
        () => null,
        (err: unknown) => {
          if (err instanceof APIError) return err;
          throw err;
        },
      );

  it.each(cases)('$scope $kind', async ({ scope, kind }) => {
    const c = await clientFor(scope, kind);
    const before = s.mock.requests.length;
    let results: Array<APIError | null>;
    if (kind === 'concurrent') {
      // Hold the admitted ones at the provider, so they are in flight together.
      s.mock.enqueue(...Array.from({ length: LIMIT.concurrent }, () => ({ delayMs: 400 })));
      results = await Promise.all(Array.from({ length: 5 }, () => ask(c)));
    } else {
      results = [];
      for (let i = 0; i < 4; i++) results.push(await ask(c));
    }
    const admitted = results.filter((r) => r === null).length;
    expect(admitted).toBe(kind === 'tpm' ? 1 : LIMIT[kind]);
    const refused = results.filter((r): r is APIError => r !== null);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.code).toBe('TG_ERR_POLICY_RATE_LIMIT');
      expect(r.message).toContain(`limit: ${kind} ${scope} `);
      expect(Number(r.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(s.mock.requests.length - before).toBe(admitted);
    const blocked = (await s.events()).filter(
      (e) => e.status === 'BLOCKED' && e.error_message?.includes(`${kind} ${scope} `),
    );
    expect(blocked).toHaveLength(refused.length);
  });
});
