/**
 * Managed-mode request guards through the real gateway: a key's user and team in its events
 * (headers cannot override them), duplicate policy members refused, client credential and rewrite
 * headers never reaching the provider, and an out-of-credit answer neither retried nor mistaken
 * for a rate limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { managedSetup, PROVIDER_KEY, type ManagedSetup } from './managed-setup.js';

describe('managed-mode request guards', () => {
  let s: ManagedSetup;
  afterEach(async () => s?.close());

  const post = (key: string, body: string, headers: Record<string, string> = {}) =>
    request(`${s.tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      body,
    });

  it("a key's user and team go into its events; x-tollgate-user/team headers cannot speak for it", async () => {
    s = await managedSetup();
    const { key } = await s.newKey({ user: 'alice', team: 'payments' });
    await s
      .client(key, { 'x-tollgate-user': 'mallory', 'x-tollgate-team': 'other', 'x-tollgate-feature': 'chat' })
      .chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] });
    const plain = await s.newKey();
    await s
      .client(plain.key, { 'x-tollgate-user': 'bob' })
      .chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] });
    const [e1, e2] = await s.events();
    expect(e1).toMatchObject({ user_id: 'alice', team: 'payments', feature_name: 'chat' });
    // A key without a user leaves attribution to the headers.
    expect(e2).toMatchObject({ user_id: 'bob', team: null });
  });

  it('refuses a duplicated model, stream or user with 400 and an event, and calls no provider', async () => {
    s = await managedSetup();
    const { key } = await s.newKey({ allowedModels: ['gpt-4.1-mini'] });
    const res = await post(
      key,
      '{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"hi"}],"model":"o3"}',
    );
    expect(res.statusCode).toBe(400);
    const body = (await res.body.json()) as { error: { code: string; detail: { field: string } } };
    expect(body.error.code).toBe('TG_ERR_REQUEST_DUPLICATE_KEY');
    expect(body.error.detail.field).toBe('model');
    const [e] = await s.events();
    expect(e).toMatchObject({ status: 'CLIENT_ERROR', error_code: 'TG_ERR_REQUEST_DUPLICATE_KEY' });
    expect(s.mock.requests).toHaveLength(0);
  });

  it('client credential headers and rewrite headers never reach the provider; only its key does', async () => {
    s = await managedSetup();
    const { key } = await s.newKey();
    const res = await post(key, JSON.stringify({ model: 'gpt-4.1', messages: [] }), {
      'x-api-key': 'sk-ant-client-own-key-0123456789',
      'x-goog-api-key': 'AIzaClientOwnKey0123456789',
      'api-key': 'azure-client-own-key-0123456789',
      'x-original-url': '/v1/files',
      'x-rewrite-url': '/v1/files',
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const seen = s.mock.requests[0]!.headers;
    expect(seen.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    for (const h of ['x-api-key', 'x-goog-api-key', 'api-key', 'x-original-url', 'x-rewrite-url'])
      expect(seen[h], h).toBeUndefined();
  });

  it('insufficient_quota is not retried, has its own error_code and raises provider.quota-exhausted; a rate limit is retried', async () => {
    s = await managedSetup();
    const { key } = await s.newKey();
    const quota = JSON.stringify({
      error: {
        message: 'You exceeded your current quota, please check your plan and billing details.',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      },
    });
    s.mock.enqueue({ status: 429, body: quota });
    const res = await post(key, JSON.stringify({ model: 'gpt-4.1', messages: [] }));
    expect(res.statusCode).toBe(429);
    expect(await res.body.text()).toBe(quota); // the provider's answer reaches the client as it was
    expect(s.mock.requests).toHaveLength(1);
    const [e] = await s.events();
    expect(e).toMatchObject({ error_code: 'TG_ERR_UPSTREAM_QUOTA_EXHAUSTED', retry_count: 0 });
    await s.tg.dispatcher.drain();
    const alerts = await s.tg.alerts.list({ ruleId: 'provider.quota-exhausted' });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.severity).toBe('CRITICAL');

    s.mock.enqueue({ status: 429, headers: { 'retry-after-ms': '1' } }, { status: 200 });
    const retried = await post(key, JSON.stringify({ model: 'gpt-4.1', messages: [] }));
    expect(retried.statusCode).toBe(200);
    await retried.body.dump();
    expect(s.mock.requests).toHaveLength(3);
  });
});
