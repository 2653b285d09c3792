/**
 * The response tap: what the gateway (proxy/gateway.ts) and the SDK (sdk/audited-fetch.ts) both do
 * with an upstream answer while it passes to the caller. It decides whether the answer is a stream,
 * feeds each chunk to the SSE assembler (or keeps a bounded copy of a plain body), times the first
 * token, and classifies how the body ended: complete, broken off mid-protocol, timed out, or
 * cancelled by the caller. Each entry point only moves the bytes (a Node response, a web
 * ReadableStream) and says what it saw; the outcome rules live here, once.
 */
import type { Clock } from '../core/clock.js';
import { ERROR_CATALOG, type ErrorCode } from '../core/errors.js';
import type { ProviderApi } from '../providers/provider-api.js';
import { classifyNetworkError } from '../upstream/upstream-client.js';
import type { CancelSignal } from '../upstream/abort-flag.js';
import type { Exchange } from './exchange.js';
import type { TemplateCache } from './delta-template.js';
import { TopLevelArrayCounter } from './json-array-counter.js';
import { SseAssembler, streamBrokeOff } from './sse-assembler.js';
import { relayStreamChunk } from './stream-relay.js';

/** An SSE answer, or an NDJSON one (Ollama) that succeeded: read event by event. */
export function isStreamedResponse(api: ProviderApi, contentType: string, statusCode: number): boolean {
  return (
    contentType.includes('text/event-stream') ||
    (api.framing === 'ndjson' && contentType.includes('ndjson') && statusCode < 300)
  );
}

/** Marks the exchange as ended by Tollgate with `code` (the status stays the upstream's, when there is one). */
export function recordFailure(x: Exchange, code: ErrorCode): void {
  x.failure = { code, message: ERROR_CATALOG[code].message };
  if (x.httpStatus === null) x.httpStatus = ERROR_CATALOG[code].http;
}

export interface ResponseTapOptions {
  /** The upstream's Content-Type and status (they decide whether the body is a stream). */
  contentType: string;
  statusCode: number;
  /** The usage chunk Tollgate asked for is hidden from the caller (stream-relay.ts). */
  stripUsage: boolean;
  /** Bytes of a plain (not streamed) body kept for the event. */
  captureLimitBytes: number;
  clock: Clock;
  /** Monotonic time the client's request started (first-token time is counted from it). */
  t0: number;
  /** Text-delta templates shared by the streams of one gateway or SDK client (delta-template.ts). */
  templates?: TemplateCache;
}

export class ResponseTap {
  /** The answer is read event by event (SSE, NDJSON). */
  readonly isStream: boolean;
  private readonly assembler: SseAssembler | null;
  private readonly decoder: InstanceType<typeof TextDecoder> | null;
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private bodyBytes = 0;
  /** Counts the billed array of a plain body whose API bills by it (images), kept or not. */
  private readonly counter: TopLevelArrayCounter | null;
  private firstChunk = true;

  constructor(
    private readonly x: Exchange,
    private readonly o: ResponseTapOptions,
  ) {
    this.isStream = isStreamedResponse(x.api, o.contentType, o.statusCode);
    this.assembler = this.isStream ? new SseAssembler(x.api, o.templates ?? null) : null;
    this.decoder = this.isStream ? new TextDecoder('utf-8') : null;
    const counted = x.api.countedBilling;
    this.counter =
      !this.isStream && counted && o.statusCode < 300 ? new TopLevelArrayCounter(counted.arrayKey) : null;
  }

  /**
   * One upstream chunk: returns what to pass on to the caller (the chunk itself, the stream minus
   * the usage event Tollgate asked for, or null when nothing is left to send).
   */
  chunk(chunk: Buffer): Buffer | string | null {
    const { x, o } = this;
    if (this.assembler && this.decoder) {
      const out = relayStreamChunk(this.assembler, this.decoder, chunk, o.stripUsage);
      // The first content token (text, tool arguments, audio), not the first byte (headers, role).
      if (x.ttftMs === null && this.assembler.result.firstContentAt !== null)
        x.ttftMs = o.clock.monotonic() - o.t0;
      return out;
    }
    if (this.firstChunk) {
      // Not streamed: the answer's first token comes with its first bytes.
      this.firstChunk = false;
      x.ttftMs = o.clock.monotonic() - o.t0;
    }
    this.bodyBytes += chunk.length;
    this.counter?.push(chunk);
    if (this.keptBytes < o.captureLimitBytes) {
      this.kept.push(chunk);
      this.keptBytes += chunk.length;
    }
    return chunk;
  }

  /** The stream's protocol is complete (`[DONE]`, `message_stop`, …); only the upstream's end is left. */
  get protocolEnded(): boolean {
    return this.assembler?.result.ended ?? false;
  }

  /**
   * The upstream body ended at TCP level. A successful stream that never finished its protocol
   * broke off: TG_ERR_UPSTREAM_STREAM_BROKEN is recorded (a cancelled exchange keeps its own).
   */
  bodyEnded(): void {
    const { x, assembler, decoder } = this;
    if (!assembler || !decoder) return;
    assembler.push(decoder.decode());
    if (!x.cancelled && this.o.statusCode < 300 && streamBrokeOff(assembler.result)) {
      recordFailure(x, 'TG_ERR_UPSTREAM_STREAM_BROKEN');
      x.connectFailed = true;
    }
  }

  /**
   * Reading the body failed: the caller went away (`x.cancelled`), the total or idle timeout
   * fired, or the connection broke. Records which, and returns its code.
   */
  bodyFailed(err: unknown, signal: CancelSignal, totalTimedOut: boolean): ErrorCode {
    const { x } = this;
    const kind = classifyNetworkError(err, signal);
    let code: ErrorCode;
    if (x.cancelled) code = 'TG_ERR_CLIENT_CANCELLED';
    else if (totalTimedOut || kind === 'idle_timeout') {
      x.timedOut = true;
      code = totalTimedOut ? 'TG_ERR_UPSTREAM_TIMEOUT' : 'TG_ERR_UPSTREAM_IDLE_TIMEOUT';
    } else {
      x.connectFailed = true;
      code = 'TG_ERR_UPSTREAM_STREAM_BROKEN';
    }
    recordFailure(x, code);
    return code;
  }

  /** The caller cancelled: the client went away, as far as the audit is concerned. */
  cancelled(): void {
    this.x.cancelled = true;
    recordFailure(this.x, 'TG_ERR_CLIENT_CANCELLED');
  }

  /** Puts what was read on the exchange: the upstream time, and the assembled stream or the kept body. */
  finish(upstreamLatencyMs: number): void {
    const { x } = this;
    x.upstreamLatencyMs = upstreamLatencyMs;
    if (this.assembler) x.stream = this.assembler.finish();
    else if (this.kept.length) x.responseText = Buffer.concat(this.kept, this.keptBytes).toString('utf8');
    // Only a body cut short needs the count: a whole one is read by the API's readResponse.
    const count = this.counter?.count ?? null;
    if (count !== null && this.bodyBytes > this.keptBytes && x.api.countedBilling)
      x.countedBilling = x.api.countedBilling.billed(count, x.requestBody);
  }
}
