import { describe, expect, it } from 'vitest';
import { captureEvent } from '../capture/capture.js';
import { newExchange } from '../capture/exchange.js';
import { endpointOf } from './registry.js';
import { loadPriceCatalog } from '../pricing/catalog.js';
import { createPricer } from '../pricing/pricer.js';

/** The event captured from one non-streamed answer to `path`. */
function capture(path: string, request: Record<string, unknown> | null, status: number, response: unknown) {
  const x = newExchange({
    source: 'gateway',
    instanceId: 'i',
    eventId: '0190a000-0000-7000-8000-000000000000',
    startedAt: 0,
    endpoint: endpointOf(path),
    method: 'POST',
  });
  x.requestBody = request;
  x.httpStatus = status;
  x.responseText = JSON.stringify(response);
  return captureEvent(x);
}

describe('non-streamed answers, read through each provider spec', () => {
  it('Anthropic Messages: response text, tool input, stop reason, cache reads and writes', () => {
    const { event, raw, billing } = capture(
      '/v1/messages',
      { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Weather?' }] },
      200,
      {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
        ],
        stop_reason: 'tool_use',
        usage: {
          input_tokens: 10,
          cache_creation_input_tokens: 100,
          cache_read_input_tokens: 200,
          output_tokens: 30,
        },
      },
    );
    expect(event).toMatchObject({
      endpoint: '/messages',
      model_requested: 'claude-sonnet-4-5',
      model_used: 'claude-sonnet-4-5-20250929',
      finish_reason: 'tool_use',
      input_tokens: 310,
      cached_input_tokens: 200,
      output_tokens: 30,
      usage_source: 'reported',
      stream: false,
    });
    expect(raw.response).toBe('Checking.\n{"city":"Paris"}');
    expect(billing.cache_write_tokens).toBe(100);
  });

  it('Anthropic error body: code is the error type', () => {
    const { event } = capture('/v1/messages', { model: 'claude-haiku-4-5' }, 529, {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    expect(event).toMatchObject({
      error_code: 'overloaded_error',
      error_message: 'Overloaded',
      status: 'SERVER_ERROR',
    });
  });

  it('Gemini generateContent on /v1beta: model from the path, usageMetadata, finish reason', () => {
    const { event, raw } = capture(
      '/v1beta/models/gemini-2.5-flash:generateContent',
      { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] },
      200,
      {
        candidates: [{ content: { role: 'model', parts: [{ text: 'Hello!' }] }, finishReason: 'STOP' }],
        usageMetadata: {
          promptTokenCount: 3,
          candidatesTokenCount: 2,
          thoughtsTokenCount: 4,
          totalTokenCount: 9,
        },
        modelVersion: 'gemini-2.5-flash',
      },
    );
    expect(event).toMatchObject({
      endpoint: '/models/gemini-2.5-flash:generateContent',
      model_requested: 'gemini-2.5-flash',
      model_used: 'gemini-2.5-flash',
      input_tokens: 3,
      output_tokens: 6,
      reasoning_tokens: 4,
      finish_reason: 'STOP',
      stream: false,
    });
    expect(raw.response).toBe('Hello!');
  });

  it('Gemini error body: code is the status', () => {
    const { event } = capture('/v1/models/gemini-2.5-pro:generateContent', {}, 400, {
      error: { code: 400, message: 'API key not valid.', status: 'INVALID_ARGUMENT' },
    });
    expect(event).toMatchObject({ error_code: 'INVALID_ARGUMENT', model_requested: 'gemini-2.5-pro' });
  });

  it('Ollama /api/chat without streaming: eval counts are the usage', () => {
    const { event, raw } = capture('/api/chat', { model: 'llama3.2', stream: false, messages: [] }, 200, {
      model: 'llama3.2',
      message: { role: 'assistant', content: 'Hi there' },
      done: true,
      done_reason: 'stop',
      prompt_eval_count: 11,
      eval_count: 3,
    });
    expect(event).toMatchObject({
      endpoint: '/api/chat',
      model_used: 'llama3.2',
      input_tokens: 11,
      output_tokens: 3,
      finish_reason: 'stop',
      stream: false,
    });
    expect(raw.response).toBe('Hi there');
  });

  it('embeddings: prompt tokens only, no output kept', () => {
    const { event, raw } = capture(
      '/v1/embeddings',
      { model: 'text-embedding-3-small', input: 'a b c' },
      200,
      {
        object: 'list',
        model: 'text-embedding-3-small',
        data: [{ object: 'embedding', index: 0, embedding: [0.1] }],
        usage: { prompt_tokens: 3, total_tokens: 3 },
      },
    );
    expect(event).toMatchObject({
      input_tokens: 3,
      output_tokens: null,
      total_tokens: 3,
      usage_source: 'reported',
    });
    expect(raw.response).toBeNull();
  });

  it('embeddings are priced from the catalog (input tokens only)', () => {
    const { event, billing } = capture(
      '/v1/embeddings',
      { model: 'text-embedding-3-small', input: 'x' },
      200,
      {
        object: 'list',
        model: 'text-embedding-3-small',
        data: [],
        usage: { prompt_tokens: 1_000_000, total_tokens: 1_000_000 },
      },
    );
    event.timestamp = '2026-01-01T00:00:00.000Z';
    createPricer(loadPriceCatalog()).price(event, billing);
    expect(event.cost_micro_usd).toBe(20_000); // $0.02 per million
  });

  it('transcription: the text and token usage; Whisper duration usage is not tokens', () => {
    const tokens = capture('/v1/audio/transcriptions', { model: 'gpt-4o-transcribe' }, 200, {
      text: 'Hello world',
      usage: { type: 'tokens', input_tokens: 14, output_tokens: 3, total_tokens: 17 },
    });
    expect(tokens.event).toMatchObject({
      model_requested: 'gpt-4o-transcribe',
      input_tokens: 14,
      output_tokens: 3,
    });
    expect(tokens.raw.response).toBe('Hello world');
    const whisper = capture('/v1/audio/transcriptions', { model: 'whisper-1' }, 200, {
      text: 'Hi',
      usage: { type: 'duration', seconds: 2 },
    });
    expect(whisper.event).toMatchObject({ input_tokens: null, usage_source: 'none' });
  });

  it('Responses: output text and function arguments, incomplete reason', () => {
    const { event, raw } = capture('/v1/responses', { model: 'gpt-4.1', input: 'hi' }, 200, {
      id: 'resp_1',
      object: 'response',
      model: 'gpt-4.1-2025-04-14',
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      error: null,
      output: [
        { type: 'function_call', arguments: '{"a":1}' },
        { type: 'message', content: [{ type: 'output_text', text: 'Partial' }] },
      ],
      usage: { input_tokens: 5, output_tokens: 16, total_tokens: 21 },
    });
    expect(event).toMatchObject({
      finish_reason: 'max_output_tokens',
      input_tokens: 5,
      output_tokens: 16,
      error_code: null,
    });
    expect(raw.response).toBe('{"a":1}\nPartial');
  });
});
