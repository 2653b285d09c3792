/**
 * Incremental reader of a provider's streamed answer: server-sent events (WHATWG HTML §9.2) or
 * NDJSON lines (Ollama). It assembles what the audit event needs — output text, tool-call
 * arguments, finish reason, usage, served model, the first content token, whether the stream
 * reached its healthy end — as bytes arrive, without holding the stream back. What each event
 * means is the provider API's business (src/providers/): the API the request's path names, or,
 * on a path no spec claims, the dialect the first events show.
 */
import type { EventUsage } from '../pricing/provider-usage.js';
import { DeltaTemplate, type DeltaShape, type TemplateCache } from './delta-template.js';
import { anthropicMessages } from '../providers/anthropic/messages.js';
import { geminiGenerateContent } from '../providers/gemini/generate-content.js';
import { openAIChat } from '../providers/openai/chat.js';
import { openAIResponses } from '../providers/openai/responses.js';
import type { ProviderApi, StreamReader, StreamSink } from '../providers/provider-api.js';

export interface SseEvent {
  /** The raw bytes of the event, including its terminating blank line. */
  raw: string;
  /** Concatenated `data:` lines. */
  data: string;
  /** The usage-only chunk (`choices: []` with `usage`) that Tollgate may have asked for. */
  usageOnly: boolean;
}

export interface AssembledStream {
  text: string;
  toolArguments: string;
  finishReason: string | null;
  /** Usage in the event convention (src/pricing/provider-usage.ts). */
  usage: EventUsage | null;
  model: string | null;
  chunks: number;
  /**
   * The stream's wire protocol (the provider API's id, `openai.chat`, `anthropic.messages`, …);
   * null while a stream on an unclaimed path shows no dialect Tollgate reads.
   */
  protocol: string | null;
  /**
   * The stream reached its protocol's healthy end: `[DONE]` (Chat Completions, Completions),
   * `response.completed` / `.incomplete` / `.failed` (Responses), `message_stop` or an `error`
   * event (Anthropic Messages), a candidate with a `finishReason` (Gemini), `done: true` (Ollama).
   */
  ended: boolean;
  /** Provider error sent inside the stream (`data: {"error": …}`). */
  errorMessage: string | null;
  errorCode: string | null;
  /** Events read when the first content (text, tool arguments, audio) came; null: none yet. */
  firstContentAt: number | null;
}

/** An assembled stream with nothing read yet: the assembler's start, and the SDK's non-streamed result. */
export function blankAssembledStream(protocol: string | null, ended: boolean): AssembledStream {
  return {
    text: '',
    toolArguments: '',
    finishReason: null,
    usage: null,
    model: null,
    chunks: 0,
    protocol,
    ended,
    errorMessage: null,
    errorCode: null,
    firstContentAt: null,
  };
}

/** Most bytes an unterminated SSE event may hold before the stream is treated as malformed. */
const MAX_PENDING_EVENT_BYTES = 1 << 20;

/**
 * Most characters of output text and tool arguments kept for the audit (the stream itself is still
 * forwarded whole), like the gateway's response capture limit: an endless or huge stream must not
 * grow memory, or the stored event, without bound.
 */
const MAX_ASSEMBLED_CHARS = 8 << 20;

/** The readers' sink and the assembler's own state, in one object per stream. */
export class SseAssembler {
  private pending = '';
  /** A CR was seen: events may end with CRLF CRLF, so the general (slower) boundary search runs. */
  private sawCr = false;
  /** The last bytes given to `decode` may have ended inside a UTF-8 sequence the decoder holds. */
  private decoderHoldsPartial = false;
  /** No bytes decoded yet: a UTF-8 byte order mark here is the stream's, and is dropped. */
  private atStreamStart = true;
  private decoderUsed = false;
  private readonly toolArgs: string[] = [];
  /** The tool call the last arguments belonged to, when the reader names calls. */
  private toolCall: string | number | undefined;
  private readonly textParts: string[] = [];
  private assembledChars = 0;
  /**
   * Text deltas (plain chat content chunks, the spec's typed `textDeltas`) that differ from an
   * earlier one only in their text and values the reader ignores (delta-template.ts).
   */
  private template: DeltaTemplate | null = null;
  private templateTries = 0;
  /** Templates learnt from earlier streams, when the caller keeps them. */
  private readonly templates: TemplateCache | null;
  /** The API whose events these are; null until a stream on an unclaimed path shows its dialect. */
  private api: ProviderApi | null;
  private reader: StreamReader | null;
  /** Chat-shaped chunks: the content template applies. */
  private chatShaped: boolean;
  private readonly ndjson: boolean;
  readonly result: AssembledStream = blankAssembledStream(null, false);
  /** Set when the stream broke the format (an event larger than the bound). */
  overflowed = false;

  /**
   * `api`: the provider API the request's path names (src/providers/registry.ts); null or one that
   * does not judge its stream (`streamEnd: 'close'`): the dialect is told by the events.
   * `templates`: text-delta templates shared with the other streams of one gateway or SDK client.
   */
  constructor(api: ProviderApi | null = null, templates: TemplateCache | null = null) {
    this.templates = templates;
    const known = api !== null && api.streamEnd !== 'close' ? api : null;
    this.api = known;
    this.reader = known?.streamReader() ?? null;
    this.chatShaped = known === null || known.id === 'openai.chat' || known.id === 'openai.completions';
    this.ndjson = api?.framing === 'ndjson';
    this.result.protocol = known?.id ?? null;
  }

  /** True when no partial event is held: the bytes fed so far ended on an event boundary. */
  get atBoundary(): boolean {
    return this.pending.length === 0;
  }

  /**
   * Decodes one chunk of the stream's bytes with `decoder` (streaming mode). A chunk that ends on
   * an ASCII byte while the decoder holds nothing is decoded directly, which is several times
   * cheaper; both give the same text (invalid bytes become U+FFFD either way).
   */
  decode(decoder: InstanceType<typeof TextDecoder>, chunk: Uint8Array): string {
    if (chunk.length === 0) return '';
    const endsInSequence = chunk[chunk.length - 1]! >= 0x80;
    const mayStartWithBom = this.atStreamStart && chunk[0] === 0xef;
    if (!this.decoderHoldsPartial && !endsInSequence && !mayStartWithBom) {
      this.atStreamStart = false;
      return (
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
      ).toString('utf8');
    }
    // The decoder drops a BOM at the start of what it decodes: past the stream's start, show it a
    // first character so that a U+FEFF at the start of this chunk is kept as content.
    if (!this.decoderUsed && !this.atStreamStart) decoder.decode(ASCII_PRIMER, { stream: true });
    this.decoderUsed = true;
    this.atStreamStart = false;
    this.decoderHoldsPartial = endsInSequence;
    return decoder.decode(chunk, { stream: true });
  }

  /**
   * Feeds decoded text; returns the complete events it closed (for callers that filter events).
   * Callers that forward raw bytes can ignore the return value.
   */
  push(text: string): SseEvent[] {
    if (!this.sawCr && text.includes('\r')) this.sawCr = true;
    const s = this.pending.length > 0 ? this.pending + text : text;
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const end = this.ndjson
        ? lineEnd(s, start)
        : this.sawCr
          ? findEventEnd(s, start)
          : lfEventEnd(s, start);
      if (end < 0) break;
      const data = this.ndjson ? s.slice(start, end).trim() : dataOf(s, start, end);
      const event: SseEvent = { raw: s.slice(start, end), data, usageOnly: false };
      this.consume(event);
      events.push(event);
      start = end;
    }
    this.pending = start === 0 ? s : s.slice(start);
    if (this.pending.length > MAX_PENDING_EVENT_BYTES) {
      this.overflowed = true;
      this.pending = '';
    }
    return events;
  }

  /** Finishes assembly; a trailing event without its blank line is still read. */
  finish(): AssembledStream {
    if (this.pending.trim()) {
      const data = this.ndjson ? this.pending.trim() : dataOf(this.pending, 0, this.pending.length);
      this.consume({ raw: this.pending, data, usageOnly: false });
      this.pending = '';
    }
    this.result.text = this.textParts.join('');
    this.result.toolArguments = this.toolArgs.join('');
    return this.result;
  }

  // What the provider API's reader found in an event (through sinkView).
  private text(piece: string): void {
    this.result.firstContentAt ??= this.result.chunks;
    this.keep(this.textParts, piece);
  }
  private toolArguments(piece: string, call?: string | number): void {
    this.result.firstContentAt ??= this.result.chunks;
    // Parallel calls one per line, as a non-streamed answer's output reads (joinedOrNull).
    if (call !== undefined && this.toolCall !== undefined && call !== this.toolCall)
      this.keep(this.toolArgs, '\n');
    if (call !== undefined) this.toolCall = call;
    this.keep(this.toolArgs, piece);
  }
  private otherContent(): void {
    this.result.firstContentAt ??= this.result.chunks;
  }
  private model(name: string): void {
    this.result.model = name;
  }
  private usage(u: EventUsage): void {
    this.result.usage = u;
  }
  private finish_(reason: string): void {
    this.result.finishReason = reason;
  }
  private error(message: string, code: string | null): void {
    this.result.errorMessage = message;
    this.result.errorCode = code;
  }
  private completed(): void {
    this.result.ended = true;
  }

  /** Keeps a piece of output while under MAX_ASSEMBLED_CHARS; the rest is forwarded, not kept. */
  private keep(parts: string[], piece: string): void {
    const room = MAX_ASSEMBLED_CHARS - this.assembledChars;
    if (room <= 0) return;
    const kept = piece.length <= room ? piece : piece.slice(0, room);
    parts.push(kept);
    this.assembledChars += kept.length;
  }

  private consume(event: SseEvent): void {
    const data = event.data;
    if (!data) return;
    if (data === '[DONE]') {
      this.result.ended = true;
      return;
    }
    if (this.template !== null || this.templates !== null) {
      const template = this.fittingTemplate(data);
      if (template !== null) {
        // A text delta of the template's shape: to the reader it means this text (and model) only.
        this.result.chunks++;
        if (template.model !== null) this.result.model = template.model;
        this.text(this.templateText!);
        return;
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return; // a malformed event is forwarded as is; it does not stop the assembly
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
    const chunk = parsed as Record<string, unknown>;
    this.result.chunks++;
    const reader = this.reader ?? this.recognise(chunk);
    event.usageOnly = reader.read(chunk, this.sinkView);
    if (this.templateTries < MAX_TEMPLATE_TRIES) this.learnTemplate(data, chunk);
  }

  /** The text `fittingTemplate` read. */
  private templateText: string | null = null;

  /**
   * The stream's template, or one learnt from an earlier stream of the same API, that `data` fits
   * (its text is left in `templateText`); null: parse the event in full.
   */
  private fittingTemplate(data: string): DeltaTemplate | null {
    const own = this.template;
    if (own !== null) {
      this.templateText = own.textOf(data);
      if (this.templateText !== null) return own;
    }
    if (this.templates === null || this.api === null) return null;
    for (const t of this.templates.of(this.api.id)) {
      if (t === own) continue;
      this.templateText = t.textOf(data);
      if (this.templateText !== null) {
        this.template = t;
        return t;
      }
    }
    return null;
  }

  /** Takes a template from a text delta that was parsed in full (a plain chat chunk, a spec's `textDeltas`). */
  private learnTemplate(data: string, chunk: Record<string, unknown>): void {
    let t: DeltaTemplate | null = null;
    if (this.chatShaped) {
      if (!isPlainContentChunk(chunk)) return;
      t = DeltaTemplate.of(data, chunk, CHAT_CONTENT, typeof chunk.model === 'string' ? chunk.model : null);
    } else {
      const deltas = this.api?.textDeltas;
      if (!deltas?.some((d) => d.type === chunk.type)) return;
      t = DeltaTemplate.from(data, chunk, deltas);
    }
    this.templateTries++;
    if (t === null) return;
    this.template = t;
    if (this.api !== null) this.templates?.add(this.api.id, t);
  }

  /**
   * On a path no spec claims, the first event that shows a dialect Tollgate reads fixes it; until
   * then events are read as chat chunks and the stream is not judged.
   */
  private recognise(chunk: Record<string, unknown>): StreamReader {
    const api = dialectOf(chunk);
    if (api === null) return UNJUDGED_READER;
    this.api = api;
    this.reader = api.streamReader();
    this.chatShaped = api === openAIChat;
    this.result.protocol = api.id;
    return this.reader;
  }

  /** The sink the readers write to (`finish` is taken by the assembler's own method). */
  private readonly sinkView: StreamSink = {
    text: (p) => this.text(p),
    toolArguments: (p, call) => this.toolArguments(p, call),
    otherContent: () => this.otherContent(),
    model: (m) => this.model(m),
    usage: (u) => this.usage(u),
    finish: (r) => this.finish_(r),
    error: (m, c) => this.error(m, c),
    completed: () => this.completed(),
  };
}

/** A reader of chat chunks that never ends a stream: for events of no known dialect. */
const UNJUDGED_READER: StreamReader = openAIChat.streamReader();

/** Anthropic Messages stream event types (docs.anthropic.com, "Streaming Messages"). */
const ANTHROPIC_EVENTS: ReadonlySet<string> = new Set([
  'message_start',
  'content_block_start',
  'content_block_delta',
  'content_block_stop',
  'message_delta',
  'message_stop',
  'ping',
]);

/** The API whose stream event this is, told by its shape; null for none Tollgate reads. */
function dialectOf(chunk: Record<string, unknown>): ProviderApi | null {
  const type = chunk.type;
  if (typeof type === 'string') {
    if (type.startsWith('response.')) return openAIResponses;
    if (ANTHROPIC_EVENTS.has(type)) return anthropicMessages;
    return null;
  }
  if (Array.isArray(chunk.candidates)) return geminiGenerateContent;
  if (Array.isArray(chunk.choices)) return openAIChat;
  return null;
}

/**
 * True when a stream that closed without a transport error still broke off: its protocol was
 * recognised and never reached its healthy end, or it carried no event at all. A stream in a
 * dialect Tollgate does not read is not judged: it is passed on as sent and recorded as it ended.
 */
export function streamBrokeOff(result: AssembledStream): boolean {
  if (result.ended) return false;
  return result.protocol !== null || result.chunks === 0;
}

/**
 * The event that tells a streaming client why its stream ends early, in the stream's own dialect,
 * so its SDK reports an error instead of a truncated answer. `body` is Tollgate's error JSON.
 */
export function streamErrorEvent(
  protocol: string | null,
  code: string,
  message: string,
  body: string,
): string {
  switch (protocol) {
    case 'anthropic.messages':
      return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message, code } })}\n\n`;
    case 'openai.responses':
      return `event: error\ndata: ${JSON.stringify({ type: 'error', code, message, param: null })}\n\n`;
    case 'ollama.native':
      return `${JSON.stringify({ error: message, code })}\n`;
    default:
      return `data: ${body}\n\n`;
  }
}

const ASCII_PRIMER = new Uint8Array([0x20]);

/** Templates tried per stream (the first content chunk often also carries the role). */
const MAX_TEMPLATE_TRIES = 3;

/**
 * Where a plain chat content chunk's text is, and the values the chat reader ignores in it: the
 * chunk's id, creation time and system fingerprint (the same in one stream, not across streams),
 * and `obfuscation`, random padding OpenAI adds to every streamed chunk (2025) so that its length
 * does not give the text away: a different string in each chunk.
 */
const CHAT_CONTENT: DeltaShape = {
  text: ['choices', null, 'delta', 'content'],
  varying: ['id', 'created', 'system_fingerprint', 'obfuscation'],
};

/**
 * A chat chunk that carries nothing for the audit but its text: one choice whose delta holds only
 * `content`, no finish reason, usage, error, legacy text or Responses API type. Such chunks make
 * up almost all of a stream, and providers send them with one fixed envelope.
 */
function isPlainContentChunk(chunk: StreamChunk): boolean {
  if (chunk.choices?.length !== 1 || chunk.usage || chunk.error !== undefined || chunk.type !== undefined)
    return false;
  const choice = chunk.choices[0]!;
  if (
    choice.finish_reason != null ||
    choice.text !== undefined ||
    !choice.delta ||
    typeof choice.delta.content !== 'string'
  )
    return false;
  for (const key in choice.delta) if (key !== 'content') return false;
  return true;
}

interface StreamChunk {
  usage?: unknown;
  error?: unknown;
  type?: unknown;
  choices?: Array<{
    delta?: { content?: unknown };
    text?: unknown;
    finish_reason?: unknown;
  }>;
}

/** Index just past the line feed that ends the NDJSON line starting at `from`, or -1. */
function lineEnd(s: string, from: number): number {
  const lf = s.indexOf('\n', from);
  return lf < 0 ? -1 : lf + 1;
}

/** Index just past the first blank line at or after `from` (LF only), or -1. */
function lfEventEnd(s: string, from: number): number {
  const lf = s.indexOf('\n\n', from);
  return lf < 0 ? -1 : lf + 2;
}

/** Index just past the blank line that ends the first event at or after `from`, or -1. Accepts LF and CRLF. */
function findEventEnd(s: string, from: number): number {
  const lf = s.indexOf('\n\n', from);
  const crlf = s.indexOf('\r\n\r\n', from);
  if (lf < 0 && crlf < 0) return -1;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 4;
  return lf + 2;
}

/** The data of the event `s[start, end)`: its `data:` lines joined by LF. */
function dataOf(s: string, start: number, end: number): string {
  // The usual event is one `data: …` line and its blank line, after an `event: …` line in the
  // typed dialects (Responses, Anthropic); a field line other than `data:` adds nothing to the data.
  const eventLine = s.startsWith('event:', start) ? s.indexOf('\n', start) : -1;
  const dataLine = eventLine >= 0 ? eventLine + 1 : start;
  const lf = s.indexOf('\n', dataLine);
  if (
    lf === end - 2 &&
    s.charCodeAt(end - 1) === 10 &&
    s.charCodeAt(lf - 1) !== 13 &&
    s.startsWith('data: ', dataLine)
  )
    return s.slice(dataLine + 6, lf);
  let data = '';
  let first = true;
  for (const line of s.slice(start, end).split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = first ? value : `${data}\n${value}`;
    first = false;
  }
  return data;
}

/** True when an SSE event is the usage-only chunk (`choices: []` with `usage`) that Tollgate asked for. */
export function isUsageOnlyChunk(event: SseEvent): boolean {
  return event.usageOnly;
}
