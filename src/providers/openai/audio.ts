import type { BilledUnits, ProviderApi } from '../provider-api.js';
import { num } from '../../pricing/provider-usage.js';
import { objectOr, stringOr } from '../json-value.js';
import { openAIError } from './openai-error.js';
import { openAICompatibleUsage } from './openai-usage.js';

/**
 * OpenAI Audio: speech (`/v1/audio/speech`, JSON in, audio bytes out, or SSE with
 * `stream_format: "sse"` ending in `speech.audio.done` with usage) and transcriptions /
 * translations (`/v1/audio/transcriptions|translations`, multipart in: the file is never stored,
 * JSON out with `text` and, for GPT-4o transcribe models, token usage; `stream: true` gives
 * `transcript.text.delta` events ending in `transcript.text.done` with usage). Whisper reports
 * `usage: {type: "duration", seconds}`, which is not tokens: it becomes the billed unit
 * `audio_second` (as does `verbose_json`'s `duration`), rounded to the nearest whole second as
 * OpenAI bills Whisper ("$0.006 / minute, rounded to the nearest second"). GPT-4o transcribe usage
 * splits its input into `input_token_details.{text_tokens, audio_tokens}`; the audio tokens are
 * priced at their own rate. Speech bills the request's `input`: its characters (TTS-1), or the
 * text and audio tokens a streamed `speech.audio.done` reports (GPT-4o mini TTS).
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
      // Speech deltas carry base64 audio in `audio` (older drafts of the API named it `delta`).
      else if (type === 'speech.audio.delta' && (delta || typeof chunk.audio === 'string'))
        sink.otherContent();
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
    billing: audioSeconds(body),
  }),
  requestBilling(path, body) {
    if (!path.endsWith('/audio/speech') || typeof body?.input !== 'string') return null;
    // Characters as Unicode code points (an emoji is one character, not two UTF-16 units).
    let n = 0;
    for (const _ of body.input) n++;
    return { unit: 'character', quantity: n };
  },
};

/** Token usage only: Whisper's `{type: "duration"}` usage is seconds of audio, not tokens. */
function tokenUsage(raw: unknown): ReturnType<typeof openAICompatibleUsage> {
  const u = objectOr(raw);
  if (!u || u.type === 'duration') return null;
  const usage = openAICompatibleUsage(u);
  if (usage) usage.audio_input_tokens = num(u, 'input_token_details', 'audio_tokens');
  return usage;
}

/**
 * Seconds of audio a transcription billed: Whisper's `usage: {type: "duration", seconds}`, else
 * the `duration` of a `verbose_json` answer; rounded to the nearest second (OpenAI's pricing:
 * "rounded to the nearest second"), but at least 1 for a clip longer than 0: OpenAI documents no
 * minimum, and a clip under 0.5 s must not be recorded as free. Null when the answer says neither
 * (`response_format` text, srt or vtt, or a token-billed model).
 */
function audioSeconds(body: Record<string, unknown>): BilledUnits | null {
  const u = objectOr(body.usage);
  const seconds = u?.type === 'duration' ? u.seconds : body.duration;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return null;
  return { unit: 'audio_second', quantity: seconds > 0 ? Math.max(1, Math.round(seconds)) : 0 };
}
