/**
 * Every event records the provider's quota when the answer reports it (issue 20): OpenAI-style
 * `x-ratelimit-*` (resets as durations), Anthropic `anthropic-ratelimit-*` (resets as RFC 3339
 * times), and nothing for Gemini, which sends no such headers (the fields stay null). The readings
 * reach the JSONL and CSV exports, and the stored events verify.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { LATER_NULLABLE_FIELDS, type AuditEvent } from '../../src/core/audit-event.js';
import { exportEvents } from '../../src/export/export-events.js';
import { hasValidHash } from '../../src/integrity/hash-chain.js';
import { startHarness, type Harness } from '../support/gateway-harness.js';

const OPENAI_HEADERS = {
  'x-ratelimit-limit-requests': '500',
  'x-ratelimit-remaining-requests': '499',
  'x-ratelimit-reset-requests': '120ms',
  'x-ratelimit-limit-tokens': '30000',
  'x-ratelimit-remaining-tokens': '29980',
  'x-ratelimit-reset-tokens': '1m0s',
};
const ANTHROPIC_HEADERS = {
  'anthropic-ratelimit-requests-limit': '50',
  'anthropic-ratelimit-requests-remaining': '3',
  'anthropic-ratelimit-requests-reset': '2026-12-06T12:00:30Z',
  'anthropic-ratelimit-tokens-limit': '40000',
  'anthropic-ratelimit-tokens-remaining': '1200',
  'anthropic-ratelimit-tokens-reset': '2026-12-06T12:00:05Z',
  // Anthropic also sends input/output token limits; the combined tokens pair is the one recorded.
  'anthropic-ratelimit-input-tokens-remaining': '900',
};

/** An upstream answering in the dialect of the path, with that provider's rate-limit headers. */
async function dialectUpstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '';
      if (path.includes('/messages')) {
        res.writeHead(200, { 'content-type': 'application/json', ...ANTHROPIC_HEADERS });
        res.end(
          JSON.stringify({
            id: 'msg_1',
            type: 'message',
            role: 'assistant',
            model: 'claude-sonnet-4-5',
            content: [{ type: 'text', text: 'hello' }],
            stop_reason: 'end_turn',
            usage: { input_tokens: 5, output_tokens: 2 },
          }),
        );
      } else if (path.includes(':generateContent')) {
        // Gemini answers carry no rate-limit headers.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            candidates: [{ content: { role: 'model', parts: [{ text: 'hello' }] }, finishReason: 'STOP' }],
            usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2, totalTokenCount: 6 },
            modelVersion: 'gemini-2.5-flash',
          }),
        );
      } else {
        res.writeHead(200, { 'content-type': 'application/json', ...OPENAI_HEADERS });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-1',
            object: 'chat.completion',
            created: 1,
            model: 'gpt-4.1',
            choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
          }),
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}

async function post(h: Harness, path: string, body: unknown): Promise<number> {
  const res = await request(`${h.baseURL}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: 'Bearer sk-proj-clientKEY0123456789abcdef',
    },
    body: JSON.stringify(body),
  });
  await res.body.text();
  return res.statusCode;
}

describe('provider quota readings in every event', () => {
  let h: Harness | undefined;
  let upstream: Server | undefined;
  afterEach(async () => {
    await h?.close();
    upstream?.close();
    h = undefined;
  });

  it('records OpenAI, Anthropic and (absent) Gemini readings; exports carry them; events verify', async () => {
    const u = await dialectUpstream();
    upstream = u.server;
    h = await startHarness({ upstreamUrl: u.url });
    const before = Date.now();
    expect(
      await post(h, '/chat/completions', { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
    ).toBe(200);
    const after = Date.now();
    expect(
      await post(h, '/messages', {
        model: 'claude-sonnet-4-5',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    ).toBe(200);
    expect(
      await post(h, '/models/gemini-2.5-flash:generateContent', {
        contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
      }),
    ).toBe(200);
    const [openai, anthropic, gemini] = await h.events();

    expect(openai).toMatchObject({
      provider_requests_remaining: 499,
      provider_requests_limit: 500,
      provider_tokens_remaining: 29_980,
      provider_tokens_limit: 30_000,
    });
    // Durations are relative to the answer: reset = answer time + 120 ms / + 60 s.
    const reqReset = Date.parse(openai!.provider_requests_reset!);
    expect(reqReset).toBeGreaterThanOrEqual(before + 120);
    expect(reqReset).toBeLessThanOrEqual(after + 120);
    const tokReset = Date.parse(openai!.provider_tokens_reset!);
    expect(tokReset - reqReset).toBe(60_000 - 120);

    expect(anthropic).toMatchObject({
      provider_requests_remaining: 3,
      provider_requests_limit: 50,
      provider_requests_reset: '2026-12-06T12:00:30.000Z',
      provider_tokens_remaining: 1200,
      provider_tokens_limit: 40_000,
      provider_tokens_reset: '2026-12-06T12:00:05.000Z',
    });

    for (const f of LATER_NULLABLE_FIELDS) if (f !== 'provider_key_id') expect(gemini![f], f).toBeNull();
    // Passthrough: the readings belong to the client's own provider key.
    for (const e of [openai, anthropic, gemini]) expect(e!.provider_key_id).toBe(e!.api_key_id);
    expect(openai!.provider_key_id).toMatch(/^[0-9a-f]{16}$/);

    for (const e of [openai, anthropic, gemini]) expect(hasValidHash(e!)).toBe(true);

    const window = { sinceMs: before - 60_000, untilMs: Date.now() + 60_000 };
    const jsonl = await exported(h, 'jsonl', window);
    const lines = jsonl
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEvent);
    expect(lines[1]).toMatchObject({ provider_requests_remaining: 3, provider_tokens_limit: 40_000 });
    expect(lines[2]!.provider_requests_remaining).toBeNull();
    expect(lines.every((e) => hasValidHash(e))).toBe(true);

    const csv = (await exported(h, 'csv', window)).trim().split('\r\n');
    const header = csv[0]!.split(',');
    const row = csv[2]!.split(',');
    for (const f of LATER_NULLABLE_FIELDS) expect(header).toContain(f);
    expect(row[header.indexOf('provider_requests_remaining')]).toBe('3');
    expect(row[header.indexOf('provider_tokens_reset')]).toBe('2026-12-06T12:00:05.000Z');
  });
});

async function exported(h: Harness, format: 'jsonl' | 'csv', w: { sinceMs: number; untilMs: number }) {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await exportEvents(h.store, out, { format, ...w });
  out.end();
  return Buffer.concat(chunks).toString('utf8');
}
