/**
 * The mock's OpenAI audio transcription (`POST /v1/audio/transcriptions`, multipart/form-data),
 * in the shapes of https://platform.openai.com/docs/api-reference/audio (2025): `{text, usage}`,
 * token usage for the GPT-4o transcribe models (the audio counted as one token per 100 bytes
 * here) and Whisper's `{type: "duration"}` usage (16,000 bytes of audio are one second here);
 * Whisper's `response_format` `verbose_json` (the duration in seconds, no usage) and `text` (the
 * bare transcript); `stream=true` gives `transcript.text.delta` events ending in
 * `transcript.text.done` with the usage.
 */
import type { ServerResponse } from 'node:http';
import type { MockContext } from './mock-context.js';
import { completionFor, sendJson, splitInto } from './mock-text.js';
import { sse, writeStream } from './mock-stream.js';

export async function answerTranscription(
  ctx: MockContext,
  res: ServerResponse,
  fileBytes: number,
): Promise<void> {
  const { json, model, script } = ctx;
  const c = completionFor(typeof json.prompt === 'string' ? json.prompt : '', undefined, script, ctx.chunks);
  const audioTokens = Math.max(1, Math.ceil(fileBytes / 100));
  const usage = model.startsWith('whisper')
    ? { type: 'duration', seconds: Math.max(1, Math.round(fileBytes / 16_000)) }
    : {
        type: 'tokens',
        input_tokens: audioTokens,
        input_token_details: { text_tokens: 0, audio_tokens: audioTokens },
        output_tokens: c.outputTokens,
        total_tokens: audioTokens + c.outputTokens,
      };
  const omit = script.omitUsage === true;
  if (model.startsWith('whisper') && json.response_format === 'verbose_json') {
    return sendJson(res, 200, {
      task: 'transcribe',
      language: 'english',
      duration: fileBytes / 16_000,
      text: c.text,
      segments: [],
    });
  }
  if (model.startsWith('whisper') && json.response_format === 'text') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${c.text}\n`);
    return;
  }
  if (json.stream !== true && json.stream !== 'true')
    return sendJson(res, 200, { text: c.text, ...(omit ? {} : { usage }) });
  return writeStream(
    res,
    {
      contentType: 'text/event-stream',
      head: [],
      pieces: splitInto(c.text, ctx.chunks).map((p) =>
        sse({ type: 'transcript.text.delta', delta: script.chunkText ?? p, logprobs: [] }),
      ),
      tail: [sse({ type: 'transcript.text.done', text: c.text, ...(omit ? {} : { usage }) })],
    },
    script,
    ctx.delayMs,
    ctx.onPeerAbort,
  );
}

/**
 * The text fields of a multipart/form-data body and the size of its file parts (RFC 7578). Read
 * as latin1 so every byte stays one character and the file's size is its byte count.
 */
export function multipartFields(
  body: Buffer,
  contentType: string,
): { fields: Record<string, string>; fileBytes: number } | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const b = boundary?.[1] ?? boundary?.[2];
  if (!b) return null;
  const text = body.toString('latin1');
  const fields: Record<string, string> = {};
  let fileBytes = 0;
  for (const part of text.split(`--${b}`).slice(1)) {
    if (part.startsWith('--')) break;
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const head = part.slice(0, split);
    const value = part.slice(split + 4).replace(/\r\n$/, '');
    const name = /name="([^"]*)"/i.exec(head)?.[1];
    if (!name) continue;
    if (/filename=/i.test(head)) fileBytes += value.length;
    else fields[name] = Buffer.from(value, 'latin1').toString('utf8');
  }
  return { fields, fileBytes };
}
