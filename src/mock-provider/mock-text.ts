/**
 * What the mock provider says and how it counts: a deterministic reply, words as tokens, and the
 * request's prompt text in each dialect (OpenAI messages, Anthropic content blocks, Gemini parts).
 */
import type { ServerResponse } from 'node:http';

/** What one answer contains, the same whichever dialect frames it. */
export interface MockCompletion {
  text: string;
  /** Every input token (cached ones included). */
  inputTokens: number;
  /** Visible output tokens (reasoning not included). */
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  /** Anthropic cache writes (`cache_creation_input_tokens`). */
  cacheWriteTokens: number;
  /** The reply was cut at the request's output cap. */
  capped: boolean;
}

/** The reply to `promptText` under an output cap (one word is one token here, as in `countWords`). */
export function completionFor(
  promptText: string,
  cap: number | undefined,
  script: { text?: string; cachedTokens?: number; reasoningTokens?: number; cacheWriteTokens?: number },
  chunks: number,
): MockCompletion {
  const full = script.text ?? replyFor(promptText, chunks);
  const words = full.split(' ');
  const capped = cap !== undefined && words.length > Math.floor(cap);
  const text = capped ? words.slice(0, Math.floor(cap)).join(' ') : full;
  return {
    text,
    inputTokens: Math.max(1, countWords(promptText)),
    outputTokens: countWords(text),
    cachedTokens: script.cachedTokens ?? 0,
    reasoningTokens: script.reasoningTokens ?? 0,
    cacheWriteTokens: script.cacheWriteTokens ?? 0,
    capped,
  };
}

/** The first positive number among `values` (a request's output cap, whatever the API calls it). */
export function capOf(...values: unknown[]): number | undefined {
  return values.find((v): v is number => typeof v === 'number' && v >= 1);
}

/** An OpenAI request's prompt: chat messages, a completion prompt, or a Responses/embeddings input. */
export function promptOf(json: Record<string, unknown>): string {
  if (Array.isArray(json.messages)) {
    return json.messages
      .map((m: unknown) => {
        const c = (m as { content?: unknown }).content;
        return typeof c === 'string' ? c : JSON.stringify(c ?? '');
      })
      .join('\n');
  }
  if (typeof json.prompt === 'string') return json.prompt;
  if (typeof json.input === 'string') return json.input;
  if (json.input !== undefined) return JSON.stringify(json.input);
  return '';
}

/**
 * The text of Anthropic content (a string or `[{type: "text", text}]` blocks) or of Gemini parts
 * (`[{text}]`): only the text, so the word count is what a reader would count.
 */
export function textOfBlocks(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((b: unknown) => {
      const t = (b as { text?: unknown } | null)?.text;
      return typeof t === 'string' ? t : '';
    })
    .filter(Boolean)
    .join('\n');
}

/** Deterministic, readable reply; tokens are counted as words so tests can predict usage. */
export function replyFor(prompt: string, chunks: number): string {
  const words = [
    'Here',
    'is',
    'a',
    'short',
    'answer',
    'about',
    'your',
    'question',
    'from',
    'the',
    'mock',
    'provider',
  ];
  const n = Math.max(chunks, 6);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(words[(i + prompt.length) % words.length]!);
  return out.join(' ') + '.';
}

/** `text` in about `n` pieces, on word boundaries (the pieces join back to `text`). */
export function splitInto(text: string, n: number): string[] {
  const words = text.split(' ');
  const per = Math.max(1, Math.ceil(words.length / n));
  const out: string[] = [];
  for (let i = 0; i < words.length; i += per)
    out.push((i === 0 ? '' : ' ') + words.slice(i, i + per).join(' '));
  return out;
}

/** The mock's token count: whitespace-separated words (predictable in tests). */
export function countWords(s: string): number {
  const t = s.trim();
  return t ? t.split(/\s+/).length : 0;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** A random id with the provider's prefix (`chatcmpl-`, `msg_`, `resp_`). */
export function mockId(prefix: string): string {
  return `${prefix}mock${Math.random().toString(36).slice(2, 10)}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
