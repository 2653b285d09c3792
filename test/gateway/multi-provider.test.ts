import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { loadPriceCatalog } from '../../src/pricing/catalog.js';
import { priceRowForEvent, usageOfEvent } from '../../src/pricing/pricer.js';
import { costMicroUsd } from '../../src/pricing/cost.js';
import { createProviderRouter } from '../../src/providers/provider-router.js';
import { apiForEndpoint } from '../../src/providers/registry.js';
import { systemClock } from '../../src/core/clock.js';
import { upstreamPolicy } from '../../src/upstream/upstream-policy.js';
import { startHarness, type Harness } from '../support/gateway-harness.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenUsage } from '../../src/pricing/cost.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { createSqliteRollups } from '../../src/store/sqlite/sqlite-rollups.js';
import { cli } from '../support/run-cli.js';

interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
}

/** A provider that records what it received and answers `status` with `body`. */
async function upstream(
  status: number,
  body: object,
): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers });
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const chat = (model: string) => ({
  id: 'c1',
  object: 'chat.completion',
  created: 1,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200 },
});

describe('several providers behind one gateway', () => {
  let h: Harness | undefined;
  const servers: Server[] = [];
  const cleanups: Array<() => void> = [];
  afterEach(async () => {
    await h?.close();
    h = undefined;
    for (const s of servers.splice(0)) s.close();
    for (const c of cleanups.splice(0)) c();
  });

  it('routes each model to its provider with its key header, prices each (also in tollgate report cost --by model), and fails over in one event', async () => {
    const openai = await upstream(200, chat('gpt-4.1-mini-2025-04-14'));
    const anthropic = await upstream(200, {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [{ type: 'text', text: 'ok' }],
      stop_reason: 'end_turn',
      usage: {
        input_tokens: 100,
        cache_creation_input_tokens: 1000,
        cache_read_input_tokens: 2000,
        output_tokens: 50,
      },
    });
    const gemini = await upstream(200, {
      candidates: [{ content: { role: 'model', parts: [{ text: 'ok' }] }, finishReason: 'STOP' }],
      usageMetadata: {
        promptTokenCount: 500,
        candidatesTokenCount: 40,
        thoughtsTokenCount: 60,
        totalTokenCount: 600,
      },
      modelVersion: 'gemini-2.5-flash',
    });
    const relay = await upstream(200, chat('deepseek-chat'));
    const flaky = await upstream(503, { error: { message: 'overloaded', type: 'server_error', code: null } });
    servers.push(openai.server, anthropic.server, gemini.server, relay.server, flaky.server);

    // The store as `tollgate serve` opens it: rollups kept in the events' write transaction, so
    // `tollgate report cost` reads this gateway's traffic.
    const storeDir = mkdtempSync(join(tmpdir(), 'tollgate-multi-'));
    cleanups.push(() => rmSync(storeDir, { recursive: true, force: true }));
    const dbPath = join(storeDir, 'tollgate.db');
    const db = openSqlite(dbPath);
    const store = new SqliteEventStore(db);
    const rollups = createSqliteRollups(db);
    store.addInTransactionHook((events) => rollups.applyRollups(events));
    h = await startHarness({
      store,
      upstream: { retry: { maxRetries: 0 } },
      providers: [
        { name: 'openai', api: 'openai', base_url: `${openai.url}/v1`, models: ['gpt-4.1*'], fallback: [] },
        { name: 'anthropic', api: 'anthropic', base_url: anthropic.url, models: ['claude-*'], fallback: [] },
        { name: 'gemini', api: 'gemini', base_url: gemini.url, models: ['gemini-*'], fallback: [] },
        { name: 'relay', api: 'openai', base_url: `${relay.url}/v1`, models: ['deepseek-*'], fallback: [] },
        {
          name: 'flaky',
          api: 'openai',
          base_url: `${flaky.url}/v1`,
          models: ['gpt-4o*'],
          fallback: ['relay'],
        },
      ],
    });
    const origin = h.baseURL.replace(/\/v1$/, '');
    const post = (path: string, headers: Record<string, string>, body: object) =>
      request(`${origin}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }).then((r) => r.body.text().then(() => r.statusCode));

    const messages = [{ role: 'user', content: 'hi' }];
    expect(
      await post(
        '/v1/chat/completions',
        { authorization: 'Bearer sk-openai-0123456789' },
        { model: 'gpt-4.1-mini', messages },
      ),
    ).toBe(200);
    expect(
      await post(
        '/v1/messages',
        { 'x-api-key': 'sk-ant-0123456789' },
        { model: 'claude-sonnet-4-5', max_tokens: 10, messages },
      ),
    ).toBe(200);
    expect(
      await post(
        '/v1beta/models/gemini-2.5-flash:generateContent',
        { 'x-goog-api-key': 'AIza0123456789' },
        { contents: [] },
      ),
    ).toBe(200);
    expect(
      await post(
        '/v1/chat/completions',
        { authorization: 'Bearer sk-relay-0123456789' },
        { model: 'deepseek-chat', messages },
      ),
    ).toBe(200);
    expect(
      await post(
        '/v1/chat/completions',
        { authorization: 'Bearer sk-flaky-0123456789' },
        { model: 'gpt-4o', messages },
      ),
    ).toBe(200);

    // Each request reached its own provider, at the right path, with its key header (and Anthropic's version).
    expect(openai.seen.map((s) => s.path)).toEqual(['/v1/chat/completions']);
    expect(openai.seen[0]!.headers.authorization).toBe('Bearer sk-openai-0123456789');
    expect(anthropic.seen.map((s) => s.path)).toEqual(['/v1/messages']);
    expect(anthropic.seen[0]!.headers['x-api-key']).toBe('sk-ant-0123456789');
    expect(anthropic.seen[0]!.headers['anthropic-version']).toBe('2023-06-01');
    expect(gemini.seen.map((s) => s.path)).toEqual(['/v1beta/models/gemini-2.5-flash:generateContent']);
    expect(gemini.seen[0]!.headers['x-goog-api-key']).toBe('AIza0123456789');
    expect(relay.seen.map((s) => s.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
    expect(flaky.seen).toHaveLength(1);

    const events = await h.events();
    expect(events.map((e) => [e.api_provider, e.model_requested, e.status])).toEqual([
      ['openai', 'gpt-4.1-mini', 'SUCCESS'],
      ['anthropic', 'claude-sonnet-4-5', 'SUCCESS'],
      ['gemini', 'gemini-2.5-flash', 'SUCCESS'],
      ['relay', 'deepseek-chat', 'SUCCESS'],
      ['relay', 'gpt-4o', 'SUCCESS'],
    ]);
    // Every key fingerprinted, whatever header it came in.
    for (const e of events.slice(0, 4)) expect(e.api_key_id).not.toBeNull();
    // The failover is one event naming both providers, with the attempt counted.
    expect(events[4]!.retry_count).toBe(1);
    expect(events[4]!.error_message).toBe('failed over from flaky (HTTP 503) to relay');

    // Each is priced exactly from the catalog; Anthropic's cache writes at their own rate.
    const catalog = loadPriceCatalog();
    for (const e of events.slice(0, 3)) {
      const row = priceRowForEvent(catalog, e)!;
      expect(row, e.model_requested!).not.toBeNull();
      const cacheWrites = e.api_provider === 'anthropic' ? 1000 : 0;
      expect(e.cost_micro_usd, e.model_requested!).toBe(costMicroUsd(row, usageOfEvent(e, cacheWrites)!));
    }
    expect(events[1]).toMatchObject({ input_tokens: 3100, cached_input_tokens: 2000, output_tokens: 50 });
    expect(events[2]).toMatchObject({ input_tokens: 500, output_tokens: 100, reasoning_tokens: 60 });
    const sonnet = priceRowForEvent(catalog, events[1]!)!;
    expect(sonnet.cache_write).not.toBeNull();
    expect(events[1]!.cost_micro_usd).not.toBe(costMicroUsd(sonnet, usageOfEvent(events[1]!, 0)!));

    // The real CLI over the same store: `tollgate report cost --by model --json`. Each model's cost
    // is the catalog's price of the usage each upstream above reported, to the micro-dollar.
    const report = await cli(['report', 'cost', '--db', dbPath, '--by', 'model', '--since', '1h', '--json']);
    expect(report.err).toBe('');
    expect(report.code).toBe(0);
    const parsed = JSON.parse(report.out) as {
      rows: Array<{ key: string; requests: number; cost_micro_usd: number; unpriced_requests: number }>;
      totals: { requests: number; cost_micro_usd: number; unpriced_requests: number };
    };
    const usage = (input: number, output: number, more: Partial<TokenUsage> = {}): TokenUsage => ({
      input_tokens: input,
      cached_input_tokens: 0,
      cache_write_tokens: 0,
      output_tokens: output,
      reasoning_tokens: 0,
      ...more,
    });
    const price = (model: string, u: TokenUsage): number =>
      costMicroUsd(catalog.resolve(model, Date.now())!, u);
    // The key is the model the provider answered with (the relay answered gpt-4o with deepseek-chat).
    const expected = new Map<string, { requests: number; cost: number }>([
      ['gpt-4.1-mini-2025-04-14', { requests: 1, cost: price('gpt-4.1-mini', usage(1000, 200)) }],
      [
        'claude-sonnet-4-5-20250929',
        {
          requests: 1,
          cost: price(
            'claude-sonnet-4-5',
            usage(3100, 50, { cached_input_tokens: 2000, cache_write_tokens: 1000 }),
          ),
        },
      ],
      [
        'gemini-2.5-flash',
        { requests: 1, cost: price('gemini-2.5-flash', usage(500, 100, { reasoning_tokens: 60 })) },
      ],
      ['deepseek-chat', { requests: 2, cost: 2 * price('deepseek-chat', usage(1000, 200)) }],
    ]);
    expect(
      new Map(parsed.rows.map((r) => [r.key, { requests: r.requests, cost: r.cost_micro_usd }])),
    ).toEqual(expected);
    for (const r of parsed.rows) expect(r.unpriced_requests, r.key).toBe(0);
    const sum = [...expected.values()].reduce((n, x) => n + x.cost, 0);
    expect(parsed.totals).toMatchObject({ requests: 5, cost_micro_usd: sum, unpriced_requests: 0 });
    // Every model has a price, and none is zero.
    for (const x of expected.values()) expect(x.cost).toBeGreaterThan(0);
  });

  it('puts each provider’s own key in its own header in managed mode, and no client credential', () => {
    const router = createProviderRouter(
      [
        {
          name: 'openai',
          api: 'openai',
          base_url: 'https://api.openai.com/v1',
          models: ['gpt-*'],
          fallback: [],
        },
        {
          name: 'anthropic',
          api: 'anthropic',
          base_url: 'https://api.anthropic.com',
          models: ['claude-*'],
          fallback: [],
        },
        {
          name: 'gemini',
          api: 'gemini',
          base_url: 'https://generativelanguage.googleapis.com',
          models: [],
          fallback: [],
        },
        {
          name: 'azure',
          api: 'openai',
          base_url: 'https://acme.openai.azure.com/openai/v1',
          models: ['az-*'],
          fallback: [],
        },
      ],
      {
        policy: upstreamPolicy({}),
        clock: systemClock,
        keys: new Map([
          ['openai', 'k-openai'],
          ['anthropic', 'k-anthropic'],
          ['gemini', 'k-gemini'],
          ['azure', 'k-azure'],
        ]),
      },
    );
    const route = (path: string, model: string | null) =>
      router.route(path, apiForEndpoint(path.replace(/^\/v1(beta)?/, '')), model)[0]!;
    expect(route('/v1/chat/completions', 'gpt-4.1').keyHeaders).toEqual({ authorization: 'Bearer k-openai' });
    expect(route('/v1/messages', 'claude-sonnet-4-5').keyHeaders).toEqual({ 'x-api-key': 'k-anthropic' });
    // No model pattern: the path's API picks the provider.
    const g = route('/v1beta/models/gemini-2.5-pro:generateContent', 'gemini-2.5-pro');
    expect([g.name, g.keyHeaders]).toEqual(['gemini', { 'x-goog-api-key': 'k-gemini' }]);
    const az = route('/v1/chat/completions', 'az-gpt4');
    expect([az.path, az.keyHeaders]).toEqual(['/openai/v1/chat/completions', { 'api-key': 'k-azure' }]);
    return router.close();
  });
});
