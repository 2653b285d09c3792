/**
 * The mock's Gemini API (`/v1beta/models/{model}:generateContent` and `:streamGenerateContent`,
 * also under `/v1`; key in `x-goog-api-key` or `?key=`), in the shapes of
 * https://ai.google.dev/api/generate-content (2025): a `GenerateContentResponse`, or a stream of
 * them (`?alt=sse`: `data:` events separated by CRLF CRLF, as Google sends them; without it a
 * JSON array). The last chunk carries `finishReason` and the whole `usageMetadata`; the stream
 * then just ends.
 */
import type { ServerResponse } from 'node:http';
import type { MockContext } from './mock-context.js';
import {
  capOf,
  completionFor,
  countWords,
  mockId,
  sendJson,
  splitInto,
  textOfBlocks,
  type MockCompletion,
} from './mock-text.js';
import { writeStream } from './mock-stream.js';
import { geminiFunctionCall, geminiThoughts, toolCallTokens, type MockToolCall } from './mock-tools.js';

/** `/v1beta/models/gemini-2.5-flash:streamGenerateContent` → model and method. */
export const GEMINI_PATH = /^\/v1(?:beta)?\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

/** Google's canonical status for an HTTP status. */
function geminiStatus(status: number): string {
  switch (status) {
    case 400:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 503:
      return 'UNAVAILABLE';
    case 504:
      return 'DEADLINE_EXCEEDED';
    default:
      return 'INTERNAL';
  }
}

export function geminiErrorBody(status: number, message?: string): Record<string, unknown> {
  const text =
    message ??
    (status === 429
      ? 'Resource has been exhausted (e.g. check quota).'
      : status === 404
        ? 'models/unknown is not found for API version v1beta.'
        : status >= 500
          ? 'An internal error has occurred.'
          : 'Request contains an invalid argument.');
  return { error: { code: status, message: text, status: geminiStatus(status) } };
}

/**
 * Gemini's answer to a wrong key: 400 INVALID_ARGUMENT with reason API_KEY_INVALID (not a 401),
 * and 403 PERMISSION_DENIED when no key came at all.
 */
export function geminiKeyError(res: ServerResponse, keyGiven: boolean): void {
  if (!keyGiven)
    return sendJson(
      res,
      403,
      geminiErrorBody(
        403,
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      ),
    );
  const body = geminiErrorBody(400, 'API key not valid. Please pass a valid API key.');
  (body.error as Record<string, unknown>).details = [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
    },
  ];
  return sendJson(res, 400, body);
}

function promptOf(json: Record<string, unknown>): string {
  const parts: string[] = [];
  const system = (json.systemInstruction ?? json.system_instruction) as { parts?: unknown } | undefined;
  if (system) parts.push(textOfBlocks(system.parts));
  if (Array.isArray(json.contents))
    for (const c of json.contents) parts.push(textOfBlocks((c as { parts?: unknown } | null)?.parts));
  return parts.filter(Boolean).join('\n');
}

function usageMetadata(c: MockCompletion, output: number, thoughts: number): Record<string, unknown> {
  return {
    promptTokenCount: c.inputTokens,
    candidatesTokenCount: output,
    ...(thoughts ? { thoughtsTokenCount: thoughts } : {}),
    ...(c.cachedTokens ? { cachedContentTokenCount: c.cachedTokens } : {}),
    totalTokenCount: c.inputTokens + output + thoughts,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: c.inputTokens }],
  };
}

/**
 * The answer's parts, one list per streamed chunk: thought summaries first (`thought: true`) when
 * asked for, then the text in pieces, or the function call whole (Gemini streams a call in one
 * chunk; with thinking on it carries a `thoughtSignature`). Source:
 * https://ai.google.dev/gemini-api/docs/function-calling and /docs/thinking (2025).
 */
function partsOf(
  text: string,
  call: MockToolCall | null,
  thoughts: string | null,
  chunks: number,
  chunkText: string | undefined,
): Array<Array<Record<string, unknown>>> {
  const out = thoughts === null ? [] : splitInto(thoughts, chunks).map((t) => [{ text: t, thought: true }]);
  if (call === null) return [...out, ...splitInto(text, chunks).map((t) => [{ text: chunkText ?? t }])];
  const signature = thoughts === null ? {} : { thoughtSignature: `CiQB${mockId('')}` };
  return [...out, [{ functionCall: { name: call.name, args: call.input }, ...signature }]];
}

export async function answerGemini(
  ctx: MockContext,
  res: ServerResponse,
  method: string,
  alt: string | null,
): Promise<void> {
  const { json, model, script } = ctx;
  const config = (json.generationConfig ?? json.generation_config) as Record<string, unknown> | undefined;
  const c = completionFor(
    promptOf(json),
    capOf(config?.maxOutputTokens, config?.max_output_tokens),
    script,
    ctx.chunks,
  );
  const call = geminiFunctionCall(json, script);
  const thoughts = geminiThoughts(json, script);
  const output = call ? toolCallTokens(call) : c.outputTokens;
  const thoughtTokens = thoughts === null ? c.reasoningTokens : countWords(thoughts);
  const responseId = mockId('');
  // A function call ends with STOP, as Gemini reports it.
  const finishReason = c.capped && !call ? 'MAX_TOKENS' : 'STOP';
  const chunk = (parts: Array<Record<string, unknown>>, last: boolean): Record<string, unknown> => ({
    candidates: [
      {
        content: { parts, role: 'model' },
        ...(last ? { finishReason, index: 0 } : { index: 0 }),
      },
    ],
    ...(script.omitUsage
      ? {}
      : {
          usageMetadata: last
            ? usageMetadata(c, output, thoughtTokens)
            : { promptTokenCount: c.inputTokens, totalTokenCount: c.inputTokens },
        }),
    modelVersion: model,
    responseId,
  });
  const parts = partsOf(c.text, call, thoughts, ctx.chunks, script.chunkText);
  if (method === 'generateContent') {
    // One answer: the thoughts as one part, then the text as one part (or the call).
    const whole = partsOf(c.text, call, thoughts, 1, undefined).flat();
    return sendJson(res, 200, chunk(whole, true));
  }
  const all = parts.map((p, i) => chunk(p, i === parts.length - 1));
  if (alt === 'sse') {
    const frame = (data: unknown): string => `data: ${JSON.stringify(data)}\r\n\r\n`;
    return writeStream(
      res,
      { contentType: 'text/event-stream', head: [], pieces: all.map(frame), tail: [] },
      script,
      ctx.delayMs,
      ctx.onPeerAbort,
    );
  }
  // Without alt=sse the stream is one JSON array, written element by element.
  return writeStream(
    res,
    {
      contentType: 'application/json; charset=UTF-8',
      head: ['['],
      pieces: all.map((x, i) => `${i === 0 ? '' : ',\r\n'}${JSON.stringify(x)}`),
      tail: [']'],
    },
    script,
    ctx.delayMs,
    ctx.onPeerAbort,
  );
}
