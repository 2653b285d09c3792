/**
 * The official `openai` client, unchanged, through the gateway and through `wrapOpenAI`:
 * `chat.completions.create({ stream: true })` and `responses.create({ stream: true })` (each event
 * complete: tokens, cost, time to first token, status, attribution), embeddings and a multipart
 * audio transcription. The client gets its answer, the event has the model, tokens, the catalog's
 * price (null for a model the catalog has no row for), the key fingerprint and the redacted prompt,
 * and the uploaded file reaches the provider intact but is never stored.
 */
import OpenAI, { toFile } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { wrapOpenAI } from '../../src/sdk/index.js';
import { sdkEvents } from '../sdk/sdk-support.js';
import { EMBEDDING, REPLY, USAGE, type DialectUpstream } from '../support/dialect-upstreams.js';
import {
  expectAuditedCall,
  OPENAI_KEY,
  PROMPT,
  startRealClientGateway,
  type RealClientSetup,
  startRealClientSdk,
  type RealClientSdkSetup,
} from '../support/real-client-audit.js';

/** A small WAV-like upload with a marker that must reach the provider and never the store. */
const AUDIO = Buffer.concat([
  Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt '),
  Buffer.from('AUDIO-BYTES-MARKER'),
  Buffer.alloc(64, 7),
]);

async function callBoth(client: OpenAI): Promise<void> {
  const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: PROMPT });
  expect(emb.data[0]!.embedding).toEqual(EMBEDDING);
  expect(emb.usage.prompt_tokens).toBe(USAGE.input);

  const tr = await client.audio.transcriptions.create({
    file: await toFile(AUDIO, 'meeting.wav', { type: 'audio/wav' }),
    model: 'gpt-4o-transcribe',
    prompt: PROMPT,
  });
  expect(tr.text).toBe(REPLY);
}

function expectBoth(events: AuditEvent[], provider: string): void {
  const [emb, tr] = events;
  // text-embedding-3-small: $0.02 per million input tokens = 0.02 µ$ per token.
  expectAuditedCall(emb, {
    provider,
    endpoint: '/embeddings',
    model: 'text-embedding-3-small',
    stream: false,
    key: OPENAI_KEY,
    authMethod: 'bearer',
    input: USAGE.input,
    output: null,
    cost: USAGE.input * 0.02,
    finishReason: null,
    response: null,
  });
  // gpt-4o-transcribe: every input token here is audio ($6 per million), output $10 per million.
  expectAuditedCall(tr, {
    provider,
    endpoint: '/audio/transcriptions',
    model: 'gpt-4o-transcribe',
    modelUsed: null, // a transcription answer names no model
    stream: false,
    key: OPENAI_KEY,
    authMethod: 'bearer',
    input: USAGE.input,
    output: USAGE.output,
    cost: USAGE.input * 6 + USAGE.output * 10,
    finishReason: null,
  });
  expect(tr).toMatchObject({ audio_input_tokens: USAGE.input, unpriced_reason: null });
  expect(JSON.stringify(tr)).not.toContain('AUDIO-BYTES-MARKER');
}

/** Who the streamed calls are attributed to (the gateway's attribution headers, read by both ways in). */
const ATTRIBUTION = {
  'x-tollgate-user': 'u-stream',
  'x-tollgate-feature': 'chat',
  'x-tollgate-team': 'search',
};

/** chat.completions.create and responses.create, both with `stream: true`, read to the end. */
async function streamBoth(client: OpenAI): Promise<void> {
  let chat = '';
  const chatStream = await client.chat.completions.create(
    { model: 'gpt-4.1', messages: [{ role: 'user', content: PROMPT }], stream: true },
    { headers: ATTRIBUTION },
  );
  for await (const chunk of chatStream) chat += chunk.choices[0]?.delta.content ?? '';
  expect(chat).toBe(REPLY);

  let text = '';
  let completed = false;
  const responses = await client.responses.create(
    { model: 'gpt-4.1', input: PROMPT, stream: true },
    { headers: ATTRIBUTION },
  );
  for await (const event of responses) {
    if (event.type === 'response.output_text.delta') text += event.delta;
    if (event.type === 'response.completed') completed = true;
  }
  expect([text, completed]).toEqual([REPLY, true]);
}

function expectStreams(events: AuditEvent[], provider: string): void {
  expect(events).toHaveLength(2);
  // gpt-4.1: $2 in / $8 out per million tokens (prices/catalog.yaml) = µ$ per token.
  const expected = {
    provider,
    model: 'gpt-4.1',
    stream: true,
    key: OPENAI_KEY,
    authMethod: 'bearer',
    input: USAGE.input,
    output: USAGE.output,
    cost: USAGE.input * 2 + USAGE.output * 8,
  };
  expectAuditedCall(events[0], { ...expected, endpoint: '/chat/completions', finishReason: 'stop' });
  expectAuditedCall(events[1], { ...expected, endpoint: '/responses', finishReason: 'completed' });
  for (const e of events)
    expect(e).toMatchObject({ user_id: 'u-stream', feature_name: 'chat', team: 'search' });
}

function expectUploadIntact(up: DialectUpstream): void {
  const upload = up.seen.find((r) => r.url.endsWith('/audio/transcriptions'))!;
  expect(String(upload.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
  expect(upload.body.includes(AUDIO)).toBe(true);
}

describe('openai client: embeddings and a multipart transcription through the gateway', () => {
  let s: RealClientSetup;
  beforeEach(async () => {
    s = await startRealClientGateway();
  });
  afterEach(async () => s.close());

  it('streams chat completions and a Responses answer unchanged, each one complete event', async () => {
    await streamBoth(new OpenAI({ apiKey: OPENAI_KEY, baseURL: s.h.baseURL, maxRetries: 0 }));
    expectStreams(await s.h.events(), 'openai');
    // The attribution headers stayed with Tollgate.
    for (const r of s.up.seen) expect(r.headers['x-tollgate-user']).toBeUndefined();
  });

  it('answers the client unchanged and records both calls', async () => {
    await callBoth(new OpenAI({ apiKey: OPENAI_KEY, baseURL: s.h.baseURL, maxRetries: 0 }));
    expectBoth(await s.h.events(), 'openai');
    expectUploadIntact(s.up);
  });
});

describe('wrapOpenAI: embeddings and a multipart transcription in-process', () => {
  let sdk: RealClientSdkSetup;
  beforeEach(async () => {
    sdk = await startRealClientSdk();
  });
  afterEach(() => sdk.close());

  it('streams chat completions and a Responses answer unchanged, each one complete event', async () => {
    await streamBoth(
      wrapOpenAI(new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${sdk.up.origin}/v1` }), {
        auditor: sdk.auditor,
        provider: 'openai',
      }),
    );
    expectStreams(await sdkEvents(sdk.auditor), 'openai');
    for (const r of sdk.up.seen) expect(r.headers['x-tollgate-user']).toBeUndefined();
  });

  it('answers the client unchanged and records both calls', async () => {
    await callBoth(
      wrapOpenAI(new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${sdk.up.origin}/v1` }), {
        auditor: sdk.auditor,
        provider: 'openai',
      }),
    );
    expectBoth(await sdkEvents(sdk.auditor), 'openai');
    expectUploadIntact(sdk.up);
  });
});
