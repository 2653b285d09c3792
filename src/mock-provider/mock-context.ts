/** What a dialect of the mock provider needs to answer one request, and how a test scripts it. */

export interface MockScript {
  /** HTTP status to answer with (default 200). */
  status?: number;
  /** Extra response headers (e.g. `retry-after`). */
  headers?: Record<string, string>;
  /** A raw body to send instead of the generated one. */
  body?: string;
  /** Never answer (the gateway's timeouts must end it). */
  hang?: boolean;
  /** Wait this long before the response headers. */
  delayMs?: number;
  /** Stream: send this many content chunks, then cut the connection without `[DONE]`. */
  truncateAfterChunks?: number;
  /** Stream: milliseconds between chunks. */
  chunkDelayMs?: number;
  /** Stream: stop sending after this many chunks but keep the connection open (idle upstream). */
  stallAfterChunks?: number;
  /** Leave `usage` out of the answer (some relays do). */
  omitUsage?: boolean;
  /** Reply text to send (default: generated from the prompt). */
  text?: string;
  /** Reported cached input tokens. */
  cachedTokens?: number;
  /** Reported reasoning tokens. */
  reasoningTokens?: number;
  /** Stream: keep sending content chunks until the client goes away (bounded by `maxEndlessMs`). */
  endless?: boolean;
  /** Stream: the content of every chunk instead of the generated words (oversized streams). */
  chunkText?: string;
  /** Stream: an endless stream stops after this long anyway, ms (default 120 000). */
  maxEndlessMs?: number;
  /** Stream: wait this long after the opening event(s) before the first content token. */
  firstTokenDelayMs?: number;
  /** Anthropic: reported cache writes (`cache_creation_input_tokens`). */
  cacheWriteTokens?: number;
  /**
   * OpenAI chat and Responses, Anthropic, Gemini: answer with a call of this tool (`tool_calls`, a
   * `function_call` item, a `tool_use` block, a `functionCall` part) instead of text. Without it the mock calls a tool when the request forces one (mock-tools.ts).
   */
  toolCall?: { name: string; input: Record<string, unknown> };
  /**
   * Anthropic, Gemini: think aloud first (a `thinking` block and its signature; `thought` parts).
   * Without it the mock thinks when the request turns thinking on and (Gemini) asks for thoughts.
   */
  thinking?: string;
}

export interface MockContext {
  /** The request body (JSON, or a multipart request's text fields). */
  json: Record<string, unknown>;
  /** The requested model (body, or Gemini's path). */
  model: string;
  script: MockScript;
  /** Default number of streamed content chunks. */
  chunks: number;
  /** Milliseconds between streamed chunks. */
  delayMs: number;
  /** Tells the mock that the client went away before the answer ended. */
  onPeerAbort: () => void;
}
