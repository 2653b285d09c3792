import type { ProviderApi } from '../provider-api.js';
import { objectOr, stringOr } from '../json-value.js';
import { openAIError } from './openai-error.js';
import { openAICompatibleUsage } from './openai-usage.js';

/**
 * OpenAI Audio: speech (`/v1/audio/speech`, JSON in, audio bytes out, or SSE with
 * `stream_format: "sse"` ending in `speech.audio.done` with usage) and transcriptions /
 * translations (`/v1/audio/transcriptions|translations`, multipart in: the file is never stored,
 * JSON out with `text` and, for GPT-4o transcribe models, token usage; `stream: true` gives
 * `transcript.text.delta` events ending in `transcript.text.done` with usage). Whisper reports
 * `usage: {type: "duration", seconds}`, which is not tokens and is not read as such.
 * Source: https://platform.openai.com/docs/api-reference/audio (2025).
 */
export const openAIAudio: ProviderApi = {
  id: 'openai.audio',
  family: 'openai',
  matches: (path) => /\/audio\/(speech|transcriptions|translations)$/.test(path),
  model: (_path, body) => (typeof body?.model === 'string' ? body.model : null),
  streamed: (_path, body) =>
    body?.stream === true || body?.stream === 'true' || body?.stream_format === 'sse',
  generative: false,
  framing: 'sse',
  streamEnd: 'event',
  streamUsageOption: false,
  streamReader: () => ({
    read(chunk, sink): boolean {
      const type = stringOr(chunk.type) ?? '';
      const delta = typeof chunk.delta === 'string' ? chunk.delta : '';
      if (type === 'transcript.text.delta' && delta) sink.text(delta);
      else if (type === 'speech.audio.delta' && delta) sink.otherContent();
      else if (type === 'transcript.text.done' || type === 'speech.audio.done') {
        const usage = tokenUsage(chunk.usage);
        if (usage) sink.usage(usage);
        sink.completed();
      } else if (type === 'error') {
        const err = openAIError(chunk);
        sink.error(err?.message ?? 'stream error', err?.code ?? null);
        sink.completed();
      }
      return false;
    },
  }),
  readResponse: (body) => ({
    model: stringOr(body.model),
    text: typeof body.text === 'string' ? body.text : null,
    finishReason: null,
    usage: tokenUsage(body.usage),
    error: openAIError(body),
  }),
};

/** Token usage only: Whisper's `{type: "duration"}` usage is seconds of audio, not tokens. */
function tokenUsage(raw: unknown): ReturnType<typeof openAICompatibleUsage> {
  const u = objectOr(raw);
  if (!u || u.type === 'duration') return null;
  return openAICompatibleUsage(u);
}
