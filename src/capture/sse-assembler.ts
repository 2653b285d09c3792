/**
 * Incremental reader of an OpenAI-style server-sent-event stream (WHATWG HTML §9.2 event stream
 * format). It assembles what the audit event needs — output text, tool-call arguments, finish
 * reason, usage, served model — as bytes arrive, without holding the stream back.
 */
import type { ProviderUsage } from './usage.js';

export interface SseEvent {
  /** The raw bytes of the event, including its terminating blank line. */
  raw: string;
  /** Concatenated `data:` lines. */
  data: string;
}

export interface AssembledStream {
  text: string;
  toolArguments: string;
  finishReason: string | null;
  usage: ProviderUsage | null;
  model: string | null;
  chunks: number;
  sawDone: boolean;
  /** Provider error sent inside the stream (`data: {"error": …}`). */
  errorMessage: string | null;
  errorCode: string | null;
}

/** Most bytes an unterminated SSE event may hold before the stream is treated as malformed. */
const MAX_PENDING_EVENT_BYTES = 1 << 20;

/**
 * Most characters of output text and tool arguments kept for the audit (the stream itself is still
 * forwarded whole), like the gateway's response capture limit: an endless or huge stream must not
 * grow memory, or the stored event, without bound.
 */
const MAX_ASSEMBLED_CHARS = 8 << 20;

export class SseAssembler {
  private pending = '';
  private readonly toolArgs: string[] = [];
  private readonly textParts: string[] = [];
  private assembledChars = 0;
  readonly result: AssembledStream = {
    text: '',
    toolArguments: '',
    finishReason: null,
    usage: null,
    model: null,
    chunks: 0,
    sawDone: false,
    errorMessage: null,
    errorCode: null,
  };
  /** Set when the stream broke the format (an event larger than the bound). */
  overflowed = false;

  /** True when no partial event is held: the bytes fed so far ended on an event boundary. */
  get atBoundary(): boolean {
    return this.pending.length === 0;
  }

  /**
   * Feeds decoded text; returns the complete events it closed (for callers that filter events).
   * Callers that forward raw bytes can ignore the return value.
   */
  push(text: string): SseEvent[] {
    this.pending += text;
    const events: SseEvent[] = [];
    for (;;) {
      const end = findEventEnd(this.pending);
      if (end < 0) break;
      const raw = this.pending.slice(0, end);
      this.pending = this.pending.slice(end);
      const data = dataOf(raw);
      events.push({ raw, data });
      this.consume(data);
    }
    if (this.pending.length > MAX_PENDING_EVENT_BYTES) {
      this.overflowed = true;
      this.pending = '';
    }
    return events;
  }

  /** Finishes assembly; a trailing event without its blank line is still read. */
  finish(): AssembledStream {
    if (this.pending.trim()) {
      this.consume(dataOf(this.pending));
      this.pending = '';
    }
    this.result.text = this.textParts.join('');
    this.result.toolArguments = this.toolArgs.join('');
    return this.result;
  }

  /** Keeps a piece of output while under MAX_ASSEMBLED_CHARS; the rest is forwarded, not kept. */
  private keep(parts: string[], piece: string): void {
    const room = MAX_ASSEMBLED_CHARS - this.assembledChars;
    if (room <= 0) return;
    const kept = piece.length <= room ? piece : piece.slice(0, room);
    parts.push(kept);
    this.assembledChars += kept.length;
  }

  private consume(data: string): void {
    if (!data) return;
    if (data === '[DONE]') {
      this.result.sawDone = true;
      return;
    }
    let chunk: StreamChunk;
    try {
      chunk = JSON.parse(data) as StreamChunk;
    } catch {
      return; // a malformed event is forwarded as is; it does not stop the assembly
    }
    if (typeof chunk !== 'object' || chunk === null) return;
    this.result.chunks++;
    if (typeof chunk.model === 'string') this.result.model = chunk.model;
    if (chunk.usage && typeof chunk.usage === 'object') this.result.usage = chunk.usage;
    if (chunk.error) {
      this.result.errorMessage = typeof chunk.error.message === 'string' ? chunk.error.message : 'stream error';
      this.result.errorCode = typeof chunk.error.code === 'string' ? chunk.error.code : null;
    }
    // Chat completions chunks
    if (Array.isArray(chunk.choices)) {
      for (const choice of chunk.choices) {
        const delta = choice.delta;
        if (delta) {
          if (typeof delta.content === 'string') this.keep(this.textParts, delta.content);
          if (Array.isArray(delta.tool_calls)) {
            for (const call of delta.tool_calls) {
              const args = call.function?.arguments;
              if (typeof args === 'string') this.keep(this.toolArgs, args);
            }
          }
        }
        if (typeof choice.text === 'string') this.keep(this.textParts, choice.text); // legacy completions
        if (typeof choice.finish_reason === 'string') this.result.finishReason = choice.finish_reason;
      }
    }
    // Responses API events
    if (chunk.type === 'response.output_text.delta' && typeof chunk.delta === 'string') this.keep(this.textParts, chunk.delta);
    if (chunk.type === 'response.completed' && chunk.response) {
      if (chunk.response.usage) this.result.usage = chunk.response.usage;
      if (typeof chunk.response.model === 'string') this.result.model = chunk.response.model;
      this.result.finishReason = typeof chunk.response.status === 'string' ? chunk.response.status : 'completed';
    }
  }
}

interface StreamChunk {
  model?: unknown;
  usage?: ProviderUsage | null;
  error?: { message?: unknown; code?: unknown };
  type?: string;
  delta?: unknown;
  response?: { usage?: ProviderUsage; model?: unknown; status?: unknown };
  choices?: Array<{
    delta?: {
      content?: unknown;
      tool_calls?: Array<{ function?: { arguments?: unknown } }>;
    };
    text?: unknown;
    finish_reason?: unknown;
  }>;
}

/** Index just past the blank line that ends the first event, or -1. Accepts LF, CRLF and CR. */
function findEventEnd(s: string): number {
  const lf = s.indexOf('\n\n');
  const crlf = s.indexOf('\r\n\r\n');
  if (lf < 0 && crlf < 0) return -1;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 4;
  return lf + 2;
}

function dataOf(raw: string): string {
  let data = '';
  let first = true;
  for (const line of raw.split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = first ? value : `${data}\n${value}`;
    first = false;
  }
  return data;
}

/** True when an SSE event is the usage-only chunk (`choices: []` with `usage`) that Tollgate asked for. */
export function isUsageOnlyChunk(event: SseEvent): boolean {
  if (!event.data.includes('"usage"')) return false;
  try {
    const chunk = JSON.parse(event.data) as StreamChunk;
    return Array.isArray(chunk.choices) && chunk.choices.length === 0 && !!chunk.usage;
  } catch {
    return false;
  }
}
