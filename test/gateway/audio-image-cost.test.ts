/**
 * Issue 18: the APIs billed in units other than text tokens, priced exactly through the gateway
 * (`startTollgate`, the mock provider's speech, transcription and image dialects) and shown by
 * `tollgate report cost --by model`: Whisper per second of audio, TTS-1 per character, GPT-4o
 * mini TTS per text and audio token, DALL·E per image by size and quality, GPT Image per token.
 * Expected dollars are worked by hand from prices/catalog.yaml.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormData, request } from 'undici';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate, type RunningTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { cli } from '../support/run-cli.js';

const KEY = 'sk-proj-AUDIOkey0123456789abcdefghijklmnopqrstuvw';
const AUTH = { authorization: `Bearer ${KEY}` };

describe('audio and image APIs priced exactly through the gateway', () => {
  let mock: MockProvider;
  let tg: RunningTollgate;
  let dir: string;
  let db: string;
  const priced: AuditEvent[] = [];

  beforeAll(async () => {
    mock = new MockProvider({ chunks: 3 });
    const upstream = await mock.listen();
    dir = mkdtempSync(join(tmpdir(), 'tollgate-h18p-units-'));
    db = join(dir, 'tollgate.db');
    const config = loadConfig({
      file: null,
      overrides: { db, port: 0, instance_id: 'units', upstream_url: upstream, 'retry.max_retries': 0 },
    });
    tg = await startTollgate({ config, log: createLogger('silent') });
  });
  afterAll(async () => {
    await tg.close();
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function eventOf(res: { headers: Record<string, unknown> }): Promise<AuditEvent> {
    await tg.writer.drain();
    const id = String(res.headers['x-tollgate-event-id']);
    const e = (await tg.store.query({ order: 'asc' })).find((x) => x.id === id);
    if (!e) throw new Error(`no event ${id}`);
    return e;
  }

  async function transcribe(fields: Record<string, string>, audioBytes: number) {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', new Blob([Buffer.alloc(audioBytes, 1)], { type: 'audio/wav' }), 'a.wav');
    const res = await request(`${tg.url}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: AUTH,
      body: form,
    });
    const text = await res.body.text();
    return { res, text, event: await eventOf(res) };
  }

  async function postJson(path: string, body: object) {
    const res = await request(`${tg.url}/v1${path}`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    return { res, bytes, event: await eventOf(res) };
  }

  it('Whisper: the duration the answer reports, in whole seconds, at $0.006 a minute', async () => {
    // The mock reports usage {type: duration, seconds: 160,000 bytes / 16,000 = 10}: 10 × $0.0001.
    const json = await transcribe({ model: 'whisper-1' }, 160_000);
    expect(json.res.statusCode).toBe(200);
    expect(json.event).toMatchObject({
      billing_unit: 'audio_second',
      billing_quantity: 10,
      cost_micro_usd: 1000,
      unpriced_reason: null,
    });
    // verbose_json: duration 168,000 / 16,000 = 10.5 s → 11 s (nearest second, half up) = 1100.
    const verbose = await transcribe({ model: 'whisper-1', response_format: 'verbose_json' }, 168_000);
    expect(verbose.event).toMatchObject({ billing_quantity: 11, cost_micro_usd: 1100 });
    priced.push(json.event, verbose.event);
    // A plain-text answer says no duration: the cost is unknown (null, with why), never 0.
    const text = await transcribe({ model: 'whisper-1', response_format: 'text' }, 16_000);
    expect(text.res.statusCode).toBe(200);
    expect(text.event).toMatchObject({
      status: 'SUCCESS',
      billing_unit: null,
      cost_micro_usd: null,
      unpriced_reason: 'whisper-1 is billed per audio_second and the answer did not say how many',
    });
  });

  it('TTS-1: the input’s characters at $15 per million; the audio reaches the client whole', async () => {
    const input = 'The quarterly report is ready — 3 charts, 2 tables.';
    const chars = [...input].length; // 51 (the dash is one character)
    const r = await postJson('/audio/speech', { model: 'tts-1', voice: 'alloy', input });
    expect(r.res.statusCode).toBe(200);
    expect(r.bytes.length).toBe(chars * 100);
    expect(r.event).toMatchObject({
      endpoint: '/audio/speech',
      billing_unit: 'character',
      billing_quantity: chars,
      cost_micro_usd: chars * 15,
      unpriced_reason: null,
    });
    priced.push(r.event);
  });

  it('GPT-4o mini TTS: streamed usage prices text input and audio output tokens', async () => {
    const input = 'Welcome back to the show';
    const r = await postJson('/audio/speech', {
      model: 'gpt-4o-mini-tts',
      voice: 'alloy',
      input,
      stream_format: 'sse',
    });
    expect(r.bytes.toString()).toContain('speech.audio.done');
    // mock usage: 5 input tokens (words), 24 audio tokens (characters): 5 × 0.60 + 24 × 12 = 3 + 288.
    expect(r.event).toMatchObject({ stream: true, input_tokens: 5, output_tokens: 24, cost_micro_usd: 291 });
    priced.push(r.event);
    // Without the stream's usage (audio bytes only), the tokens are unknown: null, not 0.
    const bytes = await postJson('/audio/speech', { model: 'gpt-4o-mini-tts', voice: 'alloy', input });
    expect(bytes.event).toMatchObject({
      cost_micro_usd: null,
      billing_unit: 'character',
      billing_quantity: 24,
    });
    expect(bytes.event.unpriced_reason).toMatch(/reported no usage/);
  });

  it('DALL·E 3: images returned × the price of their size and quality', async () => {
    const hd = await postJson('/images/generations', {
      model: 'dall-e-3',
      prompt: 'a lighthouse at dusk',
      size: '1792x1024',
      quality: 'hd',
    });
    expect(hd.event).toMatchObject({
      endpoint: '/images/generations',
      billing_unit: 'image_1792x1024_hd',
      billing_quantity: 1,
      cost_micro_usd: 120_000,
    });
    // Defaults: 1024x1024 standard, $0.04 each; DALL·E 2 with n = 3 at 512x512: 3 × $0.018.
    const std = await postJson('/images/generations', { model: 'dall-e-3', prompt: 'a fox' });
    expect(std.event).toMatchObject({ billing_unit: 'image_1024x1024_standard', cost_micro_usd: 40_000 });
    const d2 = await postJson('/images/generations', {
      model: 'dall-e-2',
      prompt: 'a fox',
      n: 3,
      size: '512x512',
    });
    expect(d2.event).toMatchObject({ billing_quantity: 3, cost_micro_usd: 54_000 });
    priced.push(hd.event, std.event, d2.event);
  });

  it('GPT Image: text input and image output tokens from the answer’s usage', async () => {
    const r = await postJson('/images/generations', {
      model: 'gpt-image-1',
      prompt: 'a red fox',
      quality: 'high',
    });
    // 3 text tokens × $5 + 4160 image tokens × $40 per million = 15 + 166,400.
    expect(r.event).toMatchObject({
      input_tokens: 3,
      image_input_tokens: 0,
      output_tokens: 4160,
      cost_micro_usd: 166_415,
      unpriced_reason: null,
    });
    priced.push(r.event);
  });

  it('`tollgate report cost --by model` shows each model’s exact cost', async () => {
    await tg.writer.drain();
    const r = await cli(['report', 'cost', '--db', db, '--by', 'model', '--since', '1h', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as {
      rows: Array<{ key: string; cost_micro_usd: number; unpriced_requests: number }>;
    };
    const byModel = new Map(report.rows.map((row) => [row.key, row]));
    const expected = new Map<string, number>();
    for (const e of priced) {
      const model = e.model_used ?? e.model_requested!;
      expected.set(model, (expected.get(model) ?? 0) + e.cost_micro_usd!);
    }
    expect(Object.fromEntries(expected)).toEqual({
      'whisper-1': 2100,
      'tts-1': 765,
      'gpt-4o-mini-tts': 291,
      'dall-e-3': 160_000,
      'dall-e-2': 54_000,
      'gpt-image-1': 166_415,
    });
    for (const [model, cost] of expected) expect(byModel.get(model)?.cost_micro_usd, model).toBe(cost);
    // The text-format Whisper answer and the bytes-only mini TTS answer are counted as unpriced.
    expect(byModel.get('whisper-1')?.unpriced_requests).toBe(1);
    expect(byModel.get('gpt-4o-mini-tts')?.unpriced_requests).toBe(1);
    const table = await cli(['report', 'cost', '--db', db, '--by', 'model', '--since', '1h']);
    expect(table.out).toMatch(/dall-e-3\s.*0\.160000/);
  });

  // After the report test: it sums this gateway's whole store.
  it('an answer larger than the kept body (8 MB): images counted from `data` as it passes, bytes untouched', async () => {
    // Three b64_json images of 3.5 MB each: 10.5 MB, past the gateway's 8 MB kept body.
    const image = (i: number) => ({ b64_json: String(i).repeat(3_500_000), revised_prompt: `fox ${i}` });
    const body = JSON.stringify({ created: 1, data: [0, 1, 2].map(image) });
    mock.enqueue({ body, headers: { 'content-type': 'application/json' } });
    const r = await postJson('/images/generations', {
      model: 'dall-e-3',
      prompt: 'a fox',
      response_format: 'b64_json',
    });
    expect(r.res.statusCode).toBe(200);
    expect(r.bytes.equals(Buffer.from(body))).toBe(true);
    expect(r.event).toMatchObject({
      status: 'SUCCESS',
      billing_unit: 'image_1024x1024_standard',
      billing_quantity: 3,
      cost_micro_usd: 120_000,
    });
  });
});
