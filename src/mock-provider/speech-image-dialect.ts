/**
 * The mock's OpenAI speech (`POST /v1/audio/speech`) and image generation
 * (`POST /v1/images/generations`), in the shapes of https://platform.openai.com/docs/api-reference
 * (audio, images; 2025):
 *  - speech answers audio bytes (`audio/mpeg`, 100 bytes per input character here), or with
 *    `stream_format: "sse"` `speech.audio.delta` events ending in `speech.audio.done` with token
 *    usage (input: one token per word; output: one audio token per input character);
 *  - DALL·E answers `data` with one `{url, revised_prompt}` per image (`n`, default 1) and no
 *    usage; GPT Image answers `b64_json` images and token usage, `input_tokens_details` split
 *    into text and image tokens, output tokens per image by quality (OpenAI's published counts for
 *    1024x1024: low 272, medium 1056, high 4160; `auto` is medium).
 */
import type { ServerResponse } from 'node:http';
import type { MockContext } from './mock-context.js';
import { countWords, sendJson } from './mock-text.js';
import { sse, writeStream } from './mock-stream.js';

/** Bytes of mock audio per input character. */
export const MOCK_AUDIO_BYTES_PER_CHAR = 100;

export async function answerSpeech(ctx: MockContext, res: ServerResponse): Promise<void> {
  const { json, script } = ctx;
  const input = typeof json.input === 'string' ? json.input : '';
  const chars = [...input].length;
  if (json.stream_format !== 'sse') {
    const audio = Buffer.alloc(Math.max(1, chars) * MOCK_AUDIO_BYTES_PER_CHAR, 0xff);
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(audio.length) });
    res.end(audio);
    return;
  }
  const inputTokens = Math.max(1, countWords(input));
  const usage = { input_tokens: inputTokens, output_tokens: chars, total_tokens: inputTokens + chars };
  const pieces = Array.from({ length: Math.max(1, ctx.chunks) }, () =>
    sse({ type: 'speech.audio.delta', audio: Buffer.alloc(32, 0xff).toString('base64') }),
  );
  return writeStream(
    res,
    {
      contentType: 'text/event-stream',
      head: [],
      pieces,
      tail: [sse({ type: 'speech.audio.done', ...(script.omitUsage ? {} : { usage }) })],
    },
    script,
    ctx.delayMs,
    ctx.onPeerAbort,
  );
}

const GPT_IMAGE_OUTPUT_TOKENS: Record<string, number> = { low: 272, medium: 1056, high: 4160, auto: 1056 };

export function answerImages(ctx: MockContext, res: ServerResponse): void {
  const { json, model, script } = ctx;
  const n = typeof json.n === 'number' && json.n >= 1 ? Math.floor(json.n) : Number(json.n) || 1;
  const prompt = typeof json.prompt === 'string' ? json.prompt : '';
  const created = Math.floor(Date.now() / 1000);
  if (!model.startsWith('gpt-image')) {
    return sendJson(res, 200, {
      created,
      data: Array.from({ length: n }, (_, i) => ({
        url: `https://mock.invalid/images/${i}.png`,
        revised_prompt: `A picture of ${prompt}`,
      })),
    });
  }
  const text = Math.max(1, countWords(prompt));
  const quality = typeof json.quality === 'string' ? json.quality : 'auto';
  const output = (GPT_IMAGE_OUTPUT_TOKENS[quality] ?? GPT_IMAGE_OUTPUT_TOKENS.auto!) * n;
  sendJson(res, 200, {
    created,
    data: Array.from({ length: n }, () => ({ b64_json: Buffer.from('mock-png').toString('base64') })),
    ...(script.omitUsage
      ? {}
      : {
          usage: {
            input_tokens: text,
            input_tokens_details: { text_tokens: text, image_tokens: 0 },
            output_tokens: output,
            total_tokens: text + output,
          },
        }),
  });
}
