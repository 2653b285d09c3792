/**
 * A healthy provider stream is never altered: Responses, Anthropic Messages and Gemini streams end
 * without `data: [DONE]`, and must reach the client byte for byte, recorded as SUCCESS. A stream of
 * the same dialect cut before its end is recorded as broken and told to the client in its dialect.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startHarness, type Harness } from '../support/gateway-harness.js';
import { harnessLikeAuditor, KEY, sdkClient, sdkEvents } from '../sdk/sdk-support.js';
import {
  ANTHROPIC_STREAM,
  cutBeforeLastEvent,
  GEMINI_STREAM,
  RESPONSES_STREAM,
} from '../fixtures/streams/provider-stream-ends.js';

/** An upstream that answers every request with `body` as an event stream, then ends cleanly. */
async function rawStreamUpstream(body: () => string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(body());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}

const CASES = [
  {
    name: 'Responses',
    path: '/responses',
    stream: RESPONSES_STREAM,
    body: { model: 'gpt-4.1', input: 'hi', stream: true },
  },
  {
    name: 'Anthropic Messages',
    path: '/messages',
    stream: ANTHROPIC_STREAM,
    body: {
      model: 'claude-sonnet-4-5',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    },
  },
  {
    name: 'Gemini',
    path: '/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    stream: GEMINI_STREAM,
    body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
  },
];

describe('gateway: streams that end without [DONE]', () => {
  let h: Harness | undefined;
  let upstream: Server | undefined;
  afterEach(async () => {
    await h?.close();
    upstream?.close();
    h = undefined;
  });

  for (const c of CASES) {
    it(`passes a healthy ${c.name} stream on byte for byte and records SUCCESS`, async () => {
      const u = await rawStreamUpstream(() => c.stream);
      upstream = u.server;
      h = await startHarness({ upstreamUrl: u.url });
      const res = await request(`${h.baseURL}${c.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(c.body),
      });
      expect(res.statusCode).toBe(200);
      expect(Buffer.from(await res.body.arrayBuffer()).equals(Buffer.from(c.stream))).toBe(true);
      const [e] = await h.events();
      expect(e!.status).toBe('SUCCESS');
      expect(e!.error_code).toBeNull();
    });

    it(`records a cut-off ${c.name} stream as broken and tells the client in its dialect`, async () => {
      const cut = cutBeforeLastEvent(c.stream);
      const u = await rawStreamUpstream(() => cut);
      upstream = u.server;
      h = await startHarness({ upstreamUrl: u.url });
      const res = await request(`${h.baseURL}${c.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(c.body),
      });
      const text = await res.body.text();
      expect(text.startsWith(cut)).toBe(true);
      expect(text.slice(cut.length)).toContain('TG_ERR_UPSTREAM_STREAM_BROKEN');
      if (c.name !== 'Gemini') expect(text.slice(cut.length).startsWith('event: error\n')).toBe(true);
      const [e] = await h.events();
      expect(e!.status).toBe('SERVER_ERROR');
      expect(e!.error_code).toBe('TG_ERR_UPSTREAM_STREAM_BROKEN');
    });
  }

  it('lets the official openai client read a streamed Responses answer through the gateway', async () => {
    const u = await rawStreamUpstream(() => RESPONSES_STREAM);
    upstream = u.server;
    h = await startHarness({ upstreamUrl: u.url });
    const client = new OpenAI({ apiKey: KEY, baseURL: h.baseURL, maxRetries: 0 });
    const types: string[] = [];
    for await (const event of await client.responses.create({ model: 'gpt-4.1', input: 'hi', stream: true }))
      types.push(event.type);
    expect(types.at(-1)).toBe('response.completed');
    const [e] = await h.events();
    expect(e!.status).toBe('SUCCESS');
    expect(e!.finish_reason).toBe('completed');
    expect(e!.response).toBe('Hello there');
  });
});

describe('SDK: streams that end without [DONE]', () => {
  it('wrapOpenAI(client).responses.create({ stream: true }) reads to the end and records SUCCESS', async () => {
    const u = await rawStreamUpstream(() => RESPONSES_STREAM);
    const auditor = await harnessLikeAuditor();
    try {
      const client = sdkClient(auditor, u.url);
      let text = '';
      for await (const event of await client.responses.create({
        model: 'gpt-4.1',
        input: 'hi',
        stream: true,
      }))
        if (event.type === 'response.output_text.delta') text += event.delta;
      expect(text).toBe('Hello there');
      const [e] = await sdkEvents(auditor);
      expect(e!.status).toBe('SUCCESS');
      expect(e!.finish_reason).toBe('completed');
    } finally {
      await auditor.close();
      u.server.close();
    }
  });

  it('still fails a Responses stream cut before response.completed', async () => {
    const u = await rawStreamUpstream(() => cutBeforeLastEvent(RESPONSES_STREAM));
    const auditor = await harnessLikeAuditor();
    try {
      const client = sdkClient(auditor, u.url);
      await expect(async () => {
        for await (const event of await client.responses.create({
          model: 'gpt-4.1',
          input: 'hi',
          stream: true,
        }))
          void event;
      }).rejects.toThrow();
      const [e] = await sdkEvents(auditor);
      expect(e!.error_code).toBe('TG_ERR_UPSTREAM_STREAM_BROKEN');
    } finally {
      await auditor.close();
      u.server.close();
    }
  });
});
