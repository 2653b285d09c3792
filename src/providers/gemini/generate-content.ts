import { usageFromGemini } from '../../pricing/provider-usage.js';
import type { ProviderApi, ResponseReading, StreamSink } from '../provider-api.js';
import { joinedOrNull, objectOr, objectsOf, stringOr } from '../json-value.js';

/** `/v1beta/models/gemini-2.5-flash:streamGenerateContent` → model and method. */
const MODEL_PATH = /\/models\/([^/:]+):([A-Za-z]+)$/;

/**
 * Google Gemini API (`/v1` and `/v1beta`, key in `x-goog-api-key` or `?key=`): the model is in the
 * path (`/models/{model}:generateContent`), streaming is the `:streamGenerateContent` method
 * (`?alt=sse` for server-sent events, which the Google GenAI SDK always asks for). Every chunk is
 * a `GenerateContentResponse`; the last carries `finishReason` and `usageMetadata` (thoughts are
 * reported apart from candidates: src/pricing/provider-usage.ts). The stream just ends, with no
 * sentinel: it is complete once a finish reason came. Errors: `{"error":{"code","message","status"}}`.
 * Source: https://ai.google.dev/api/generate-content (2025).
 */
export const geminiGenerateContent: ProviderApi = {
  id: 'gemini.generate',
  family: 'gemini',
  matches: (path) => MODEL_PATH.test(path),
  model: (path) => MODEL_PATH.exec(path)?.[1] ?? null,
  streamed: (path) => MODEL_PATH.exec(path)?.[2] === 'streamGenerateContent',
  generative: true,
  framing: 'sse',
  streamEnd: 'event',
  streamUsageOption: false,
  streamReader: () => {
    // Each functionCall part is one whole call: numbered, so parallel calls are kept one per line.
    let calls = 0;
    return {
      read(chunk, sink): boolean {
        const err = geminiError(chunk);
        if (err) {
          sink.error(err.message ?? 'stream error', err.code);
          sink.completed();
          return false;
        }
        if (typeof chunk.modelVersion === 'string') sink.model(chunk.modelVersion);
        const usage = objectOr(chunk.usageMetadata);
        if (usage) sink.usage(usageFromGemini(usage));
        let finished = false;
        for (const c of objectsOf(chunk.candidates)) {
          calls = readParts(c, sink, calls);
          const finish = stringOr(c.finishReason);
          if (finish) {
            sink.finish(finish);
            finished = true;
          }
        }
        if (finished) sink.completed();
        return false;
      },
    };
  },
  readResponse(body): ResponseReading {
    const texts: string[] = [];
    let finish: string | null = null;
    for (const c of objectsOf(body.candidates)) {
      for (const part of objectsOf(objectOr(c.content)?.parts)) {
        if (part.thought === true) continue;
        if (typeof part.text === 'string') texts.push(part.text);
        const call = objectOr(part.functionCall);
        if (call) texts.push(JSON.stringify(call.args ?? {}));
      }
      finish ??= stringOr(c.finishReason);
    }
    const usage = objectOr(body.usageMetadata);
    return {
      model: stringOr(body.modelVersion),
      text: joinedOrNull(texts),
      finishReason: finish,
      usage: usage ? usageFromGemini(usage) : null,
      error: geminiError(body),
    };
  },
};

/** Reads one candidate's parts; returns the number of function calls read so far. */
function readParts(candidate: Record<string, unknown>, sink: StreamSink, calls: number): number {
  for (const part of objectsOf(objectOr(candidate.content)?.parts)) {
    if (part.thought === true) {
      sink.otherContent();
      continue;
    }
    if (typeof part.text === 'string' && part.text !== '') sink.text(part.text);
    const call = objectOr(part.functionCall);
    if (call) sink.toolArguments(JSON.stringify(call.args ?? {}), calls++);
    if (objectOr(part.inlineData)) sink.otherContent();
  }
  return calls;
}

/**
 * Google's error shape: `status` (`INVALID_ARGUMENT`, `PERMISSION_DENIED`) is the code. A wrong
 * key is a 400 whose `details` carry `reason: API_KEY_INVALID` (https://ai.google.dev/gemini-api/docs/troubleshooting):
 * an authentication failure, though not a 401.
 */
function geminiError(body: Record<string, unknown>): ResponseReading['error'] {
  const err = objectOr(body.error);
  if (!err) return null;
  const keyInvalid = objectsOf(err.details).some((d) => d.reason === 'API_KEY_INVALID');
  return {
    code: stringOr(err.status) ?? stringOr(err.code),
    message: stringOr(err.message),
    ...(keyInvalid ? { authFailure: true } : {}),
  };
}
