/**
 * The provider spec: what Tollgate knows about one provider API (OpenAI Chat Completions,
 * Anthropic Messages, Gemini generateContent, …). Capture, pricing, detection, the SDK and the
 * doctor read a provider through this interface only; each API lives in `src/providers/<name>/`
 * and is listed once in `registry.ts`.
 */
import type { EventUsage } from '../pricing/provider-usage.js';

/** The wire format a provider speaks (one family may serve several APIs). */
export type ApiFamily = 'openai' | 'anthropic' | 'gemini' | 'ollama';

/** The header a provider key travels in. */
export type KeyHeader = 'authorization' | 'x-api-key' | 'x-goog-api-key' | 'api-key';

/** How a streamed response is framed: server-sent events, or one JSON object per line. */
export type StreamFraming = 'sse' | 'ndjson';

/** Where a stream reader puts what it found in one event. */
export interface StreamSink {
  /** Output text (a content token); the first one is the stream's first token. */
  text(piece: string): void;
  /**
   * Tool-call arguments (count as content for the first token). `call` names the call the piece
   * belongs to (its index or item id) where a stream interleaves several; pieces of different calls
   * are kept one call per line, as a non-streamed answer's output reads.
   */
  toolArguments(piece: string, call?: string | number): void;
  /** Audio or another non-text content part: content for the first token, nothing kept. */
  otherContent(): void;
  model(name: string): void;
  /** Usage so far, already in the event convention (replaces any earlier reading). */
  usage(u: EventUsage): void;
  finish(reason: string): void;
  error(message: string, code: string | null): void;
  /** The stream's protocol reached its healthy end (`[DONE]`, `response.completed`, `message_stop` …). */
  completed(): void;
}

/** Reads the events of one stream, in order. */
export interface StreamReader {
  /**
   * Reads one stream event: an SSE event's parsed `data`, or one NDJSON line. Returns true when
   * the event is the usage-only chunk Tollgate may have asked for (hidden from the caller).
   */
  read(chunk: Record<string, unknown>, sink: StreamSink): boolean;
}

/**
 * A quantity of a billed unit other than tokens, as the event records it (`billing_unit`,
 * `billing_quantity`; docs/cost.md "Billed units"): `audio_second`, `character`,
 * `image_<size>_<quality>`.
 */
export interface BilledUnits {
  unit: string;
  quantity: number;
}

/**
 * A stream event kind that makes up most of a stream and, when its text is not empty, means to the
 * spec's reader only `sink.text(text)`: Responses `response.output_text.delta`, Anthropic
 * `content_block_delta` with a `text_delta`. The SSE assembler may read a later event of the kind
 * that has the same shape as one it parsed (the same keys in the same order, the same values, but
 * for the text and the values under `varying`, which the reader ignores) without a full JSON parse.
 */
export interface TextDeltaEvent {
  /** The event's `type` (top level). */
  readonly type: string;
  /** Keys from the top level down to the text string, e.g. `['delta', 'text']`. */
  readonly text: readonly string[];
  /** Keys whose number or string values the reader ignores in this kind of event (ids, indexes, counters). */
  readonly varying: readonly string[];
}

/** What a non-streamed response says. */
export interface ResponseReading {
  model: string | null;
  text: string | null;
  finishReason: string | null;
  usage: EventUsage | null;
  /**
   * The provider's error. `authFailure`: it says the key itself was refused, whatever the HTTP
   * status (Gemini answers a wrong key 400 INVALID_ARGUMENT with reason API_KEY_INVALID).
   */
  error: { code: string | null; message: string | null; authFailure?: boolean } | null;
  /** Units billed other than tokens, when the answer says (Whisper's duration, DALL·E's images). */
  billing?: BilledUnits | null;
}

/** One provider API: how to read its requests, responses and streams. */
export interface ProviderApi {
  /** Stable id, e.g. `openai.chat`, `anthropic.messages`, `gemini.generate`. */
  readonly id: string;
  readonly family: ApiFamily;
  /** Whether this API serves `path` (the path under `/v1` as the gateway records it, or the full path). */
  matches(path: string): boolean;
  /** The requested model: from the body, or from the path (Gemini: `/models/{model}:generateContent`). */
  model(path: string, body: Record<string, unknown> | null): string | null;
  /** Whether the request asks for a streamed answer (body `stream: true`, or a streaming path). */
  streamed(path: string, body: Record<string, unknown> | null): boolean;
  /** The API produces text, so missing usage is worth estimating. */
  readonly generative: boolean;
  readonly framing: StreamFraming;
  /**
   * How a healthy stream ends: `sentinel` (the SSE `data: [DONE]` line) or `event` (a final event
   * the reader reports with `completed()`: `response.completed`, `message_stop`, a Gemini chunk
   * with a finish reason, an Ollama line with `done: true`, or the provider's own error event), or `close` (protocol
   * unknown: a clean close is a healthy end).
   */
  readonly streamEnd: 'sentinel' | 'event' | 'close';
  /** Usage can be requested in a stream with `stream_options.include_usage` (OpenAI chat/completions). */
  readonly streamUsageOption: boolean;
  /** A reader for one stream (it may keep state across events, as Anthropic's usage needs). */
  streamReader(): StreamReader;
  /** The text-delta events of its streams that the assembler may read without a full parse. */
  readonly textDeltas?: readonly TextDeltaEvent[];
  /**
   * Billing of a successful answer too large to keep (OpenAI Images with `b64_json`): the units
   * are counted from the elements of the body's top-level `arrayKey` array while the body passes.
   */
  readonly countedBilling?: {
    readonly arrayKey: string;
    billed(count: number, request: Record<string, unknown> | null): BilledUnits;
  };
  /**
   * Reads a non-streamed JSON answer (or an error body). `request`: the request's body, for an
   * answer whose billing depends on what was asked (DALL·E's size and quality).
   */
  readResponse(body: Record<string, unknown>, request?: Record<string, unknown> | null): ResponseReading;
  /**
   * Units billed from the request itself once the provider answered (TTS: the input's
   * characters), whether the answer is audio bytes, a stream or JSON. Absent: none.
   */
  requestBilling?(path: string, body: Record<string, unknown> | null): BilledUnits | null;
}
