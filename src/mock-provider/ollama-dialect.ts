/**
 * The mock's Ollama native API (`POST /api/chat`, `POST /api/generate`; no key), in the shapes of
 * https://github.com/ollama/ollama/blob/main/docs/api.md (2025): streamed by default as NDJSON,
 * one object per line, the last with `done: true`, `done_reason`, `prompt_eval_count` and
 * `eval_count`; `stream: false` gives that last object with the whole content.
 */
import type { ServerResponse } from 'node:http';
import type { MockContext } from './mock-context.js';
import { capOf, completionFor, promptOf, sendJson, splitInto } from './mock-text.js';
import { writeStream } from './mock-stream.js';

export async function answerOllama(
  ctx: MockContext,
  res: ServerResponse,
  kind: 'chat' | 'generate',
): Promise<void> {
  const { json, model, script } = ctx;
  const options = json.options as Record<string, unknown> | undefined;
  const c = completionFor(promptOf(json), capOf(options?.num_predict), script, ctx.chunks);
  const line = (text: string, done: boolean): Record<string, unknown> => ({
    model,
    created_at: new Date().toISOString(),
    ...(kind === 'chat' ? { message: { role: 'assistant', content: text } } : { response: text }),
    done,
    ...(done
      ? {
          done_reason: c.capped ? 'length' : 'stop',
          total_duration: 1_000_000,
          load_duration: 100_000,
          ...(script.omitUsage ? {} : { prompt_eval_count: c.inputTokens, eval_count: c.outputTokens }),
          prompt_eval_duration: 200_000,
          eval_duration: 700_000,
        }
      : {}),
  });
  if (json.stream === false) return sendJson(res, 200, line(c.text, true));
  const ndjson = (x: unknown): string => `${JSON.stringify(x)}\n`;
  return writeStream(
    res,
    {
      contentType: 'application/x-ndjson',
      head: [],
      pieces: splitInto(c.text, ctx.chunks).map((p) => ndjson(line(script.chunkText ?? p, false))),
      tail: [ndjson(line('', true))],
    },
    script,
    ctx.delayMs,
    ctx.onPeerAbort,
  );
}

export function ollamaErrorBody(status: number): Record<string, unknown> {
  return { error: status === 404 ? 'model not found, try pulling it first' : `mock error ${status}` };
}
