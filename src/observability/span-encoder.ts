import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { TraceContext } from '../capture/trace-context.js';
import type { AuditEvent } from '../core/audit-event.js';
import {
  contentAttributes,
  errorType,
  GENAI,
  operationName,
  type ServerAddress,
} from './genai-attributes.js';

/**
 * OTLP protobuf spans written straight from audit events (opentelemetry/proto/trace/v1/trace.proto),
 * byte for byte what the SDK's serializer (`ProtobufTraceSerializer` of @opentelemetry/otlp-transformer)
 * writes for the span `spanFromEvent` builds with `spanAttributes` (+ `contentAttributes`) — without
 * the attribute object, the `ReadableSpan`, the id byte arrays and the serializer's size-estimating
 * first pass, and without holding any of them until the batch is sent: a queued span is bytes.
 * event-span.ts stays the reference; span-encoder.test.ts compares the two.
 */
export class SpanEncoder {
  private buf = new Uint8Array(64 * 1024);
  private pos = 0;
  /** Spans written since the last `take`. */
  count = 0;
  private readonly textEncoder = new TextEncoder();
  private readonly header: Uint8Array;
  private readonly serverPort: number | null;
  private readonly serverAddress: string | null;

  /** `resource` and `scope` are written once per request, before the spans. */
  constructor(
    resource: Attributes,
    private readonly scopeName: string,
    server: ServerAddress | null,
    private readonly captureContent: boolean,
  ) {
    this.serverAddress = server?.address ?? null;
    this.serverPort = server?.port ?? null;
    // Resource { attributes = 1; dropped_attributes_count = 2 }, as the SDK writes it.
    const start = this.pos;
    this.writeAttributes(resource, 1);
    this.tag(2, 0);
    this.varint(0);
    this.header = this.buf.slice(start, this.pos);
    this.pos = 0;
  }

  /** Appends one span; false (nothing written) when the event has no usable timestamp. */
  add(e: AuditEvent, caller: TraceContext | null): boolean {
    const start = Date.parse(e.timestamp);
    if (!Number.isFinite(start)) return false;
    this.tag(2, 2); // ScopeSpans.spans
    const spanLen = this.startLength();
    const spanStart = this.pos;
    const continued = caller !== null && e.trace_id === caller.traceId;
    this.tag(1, 2);
    if (continued) this.hex(caller.traceId);
    else this.uuidHex(e.id);
    this.tag(2, 2);
    if (e.span_id !== null && HEX16.test(e.span_id)) this.hex(e.span_id);
    else this.randomId(8);
    if (continued) {
      this.tag(4, 2);
      this.hex(caller.parentSpanId);
    }
    const op = operationName(e);
    this.tag(5, 2);
    this.string(e.model_requested ? `${op} ${e.model_requested}` : op);
    this.tag(6, 0);
    this.varint(3); // SpanKind.CLIENT (2) + 1: the proto enum has UNSPECIFIED at 0
    this.tag(7, 1);
    this.hrTimeFixed64(start);
    this.tag(8, 1);
    this.hrTimeFixed64(start + (e.latency_ms ?? 0));
    this.eventAttributes(e, op);
    if (this.captureContent) this.writeAttributes(contentAttributes(e), 9);
    this.tag(10, 0);
    this.varint(0);
    this.tag(12, 0);
    this.varint(0);
    this.tag(14, 0);
    this.varint(0);
    this.tag(15, 2); // Status { message = 2; code = 3 }
    const statusLen = this.startLength();
    const statusStart = this.pos;
    if (e.status !== 'SUCCESS') {
      this.tag(2, 2);
      this.string(e.status);
      this.tag(3, 0);
      this.varint(2); // STATUS_CODE_ERROR
    } else {
      this.tag(3, 0);
      this.varint(0); // STATUS_CODE_UNSET
    }
    this.finishLength(statusLen, statusStart);
    // Span.flags: trace flags (always sampled here) | HAS_IS_REMOTE (0x100) | IS_REMOTE (0x200).
    this.tag(16, 5);
    this.fixed32(continued ? 0x301 : 0x101);
    this.finishLength(spanLen, spanStart);
    this.count++;
    return true;
  }

  /**
   * The spans written so far as one ExportTraceServiceRequest (one ResourceSpans, one ScopeSpans),
   * and a fresh start for the next batch.
   */
  take(): Uint8Array {
    const spans = this.buf.subarray(0, this.pos);
    const scope = this.scopeBytes();
    const scopeSpansLen = scope.length + spans.length;
    const resourceLen = 1 + varintSize(this.header.length) + this.header.length;
    const resourceSpansLen = resourceLen + 1 + varintSize(scopeSpansLen) + scopeSpansLen;
    const out = new Uint8Array(1 + varintSize(resourceSpansLen) + resourceSpansLen);
    let p = 0;
    const put = (b: number): void => {
      out[p++] = b;
    };
    const putVarint = (v: number): void => {
      while (v > 0x7f) {
        put((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      put(v);
    };
    put(0x0a); // ExportTraceServiceRequest.resource_spans = 1
    putVarint(resourceSpansLen);
    put(0x0a); // ResourceSpans.resource = 1
    putVarint(this.header.length);
    out.set(this.header, p);
    p += this.header.length;
    put(0x12); // ResourceSpans.scope_spans = 2
    putVarint(scopeSpansLen);
    out.set(scope, p);
    p += scope.length;
    out.set(spans, p);
    this.pos = 0;
    this.count = 0;
    return out;
  }

  private scopeBytesCache: Uint8Array | null = null;
  /** ScopeSpans.scope = 1: InstrumentationScope { name = 1 }. */
  private scopeBytes(): Uint8Array {
    if (this.scopeBytesCache) return this.scopeBytesCache;
    const name = this.textEncoder.encode(this.scopeName);
    const inner = [0x0a, ...varintBytes(name.length), ...name];
    this.scopeBytesCache = Uint8Array.from([0x0a, ...varintBytes(inner.length), ...inner]);
    return this.scopeBytesCache;
  }

  /** spanAttributes(e, server), in its key order. */
  private eventAttributes(e: AuditEvent, op: string): void {
    this.attribute(GENAI.operationName, op);
    this.attribute(GENAI.providerName, e.api_provider ?? 'unknown');
    this.attribute('tollgate.event.id', e.id);
    this.attribute('tollgate.status', e.status);
    this.attribute('tollgate.retry_count', e.retry_count);
    if (e.model_requested !== null) this.attribute(GENAI.requestModel, e.model_requested);
    if (e.model_used !== null) this.attribute(GENAI.responseModel, e.model_used);
    if (e.input_tokens !== null) this.attribute(GENAI.inputTokens, e.input_tokens);
    if (e.output_tokens !== null) this.attribute(GENAI.outputTokens, e.output_tokens);
    if (e.cached_input_tokens !== null) this.attribute(GENAI.cacheReadInputTokens, e.cached_input_tokens);
    if (e.cache_write_tokens !== null) this.attribute(GENAI.cacheCreationInputTokens, e.cache_write_tokens);
    if (e.finish_reason !== null) this.attribute(GENAI.finishReasons, [e.finish_reason]);
    if (e.stream === true && e.time_to_first_token_ms !== null)
      this.attribute(GENAI.timeToFirstChunk, e.time_to_first_token_ms / 1000);
    const err = errorType(e);
    if (err !== null) this.attribute(GENAI.errorType, err);
    if (e.http_status_code !== null) this.attribute(GENAI.httpStatusCode, e.http_status_code);
    if (this.serverAddress !== null && this.serverPort !== null) {
      this.attribute(GENAI.serverAddress, this.serverAddress);
      this.attribute(GENAI.serverPort, this.serverPort);
    }
    if (e.stream !== null) this.attribute('tollgate.stream', e.stream);
    if (e.usage_source === 'estimated') this.attribute('tollgate.usage_estimated', true);
    if (e.cost_micro_usd !== null) this.attribute('tollgate.cost_micro_usd', e.cost_micro_usd);
    if (e.request_id !== null) this.attribute('tollgate.request_id', e.request_id);
    if (e.error_code !== null) this.attribute('tollgate.error_code', e.error_code);
    if (e.feature_name !== null) this.attribute('tollgate.feature', e.feature_name);
    if (e.team !== null) this.attribute('tollgate.team', e.team);
    if (e.virtual_key_id !== null) this.attribute('tollgate.virtual_key_id', e.virtual_key_id);
    if (e.is_anomalous) this.attribute('tollgate.is_anomalous', true);
    if (e.threat_indicators.length) this.attribute('tollgate.threat_indicators', e.threat_indicators);
    if (e.redactions.length)
      this.attribute(
        'tollgate.redactions',
        e.redactions.map((r) => `${r.type}:${r.count}`),
      );
  }

  /** Span.attributes = 9 (or Resource.attributes = 1): repeated KeyValue { key = 1; value = 2 }. */
  private attribute(key: string, value: AttributeValue, field = 9): void {
    this.tag(field, 2);
    const kv = this.startLength();
    const kvStart = this.pos;
    this.tag(1, 2);
    this.string(key);
    this.tag(2, 2);
    const v = this.startLength();
    const vStart = this.pos;
    this.anyValue(value);
    this.finishLength(v, vStart);
    this.finishLength(kv, kvStart);
  }

  private writeAttributes(a: Attributes, field: number): void {
    for (const key in a) {
      if (!Object.prototype.hasOwnProperty.call(a, key)) continue;
      this.attribute(key, a[key] as AttributeValue, field);
    }
  }

  /** AnyValue as the SDK's `writeAnyValue` writes it (integers in int64 range as int_value). */
  private anyValue(value: AttributeValue | null | undefined): void {
    if (typeof value === 'string') {
      this.tag(1, 2);
      this.string(value);
    } else if (typeof value === 'boolean') {
      this.tag(2, 0);
      this.varint(value ? 1 : 0);
    } else if (typeof value === 'number') {
      if (Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63) {
        this.tag(3, 0);
        this.varint(value);
      } else {
        this.tag(4, 1);
        this.ensure(8);
        new DataView(this.buf.buffer, this.buf.byteOffset).setFloat64(this.pos, value, true);
        this.pos += 8;
      }
    } else if (Array.isArray(value)) {
      this.tag(5, 2);
      const arr = this.startLength();
      const arrStart = this.pos;
      for (const item of value) {
        this.tag(1, 2);
        const it = this.startLength();
        const itStart = this.pos;
        this.anyValue(item);
        this.finishLength(it, itStart);
      }
      this.finishLength(arr, arrStart);
    }
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** The SDK writer's varint: unsigned 32-bit fast path, else 64-bit (two's complement if negative). */
  private varint(value: number): void {
    this.ensure(10);
    const b = this.buf;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 0x7f) {
        b[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[this.pos++] = v;
      return;
    }
    const abs = Math.abs(value);
    let low = abs >>> 0;
    let high = (abs / 0x100000000) >>> 0;
    if (value < 0) {
      low = ~low >>> 0;
      high = ~high >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    while (high > 0 || low > 0x7f) {
      b[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    b[this.pos++] = low & 0x7f;
  }

  private fixed32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    b[this.pos++] = v & 0xff;
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = (v >>> 16) & 0xff;
    b[this.pos++] = (v >>> 24) & 0xff;
  }

  /**
   * Epoch milliseconds as nanoseconds in a fixed64: first the SDK's HrTime (`millisToHrTime`:
   * whole seconds, rounded nanoseconds), then its exact split into two 32-bit halves
   * (`writeHrTimeAsFixed64`: no product above 2^53).
   */
  private hrTimeFixed64(ms: number): void {
    const seconds = Math.trunc(ms / 1000);
    const nanos = Math.round((ms % 1000) * 1e6);
    const lower = (seconds & 0xffff) * 1e9;
    const upper = ((seconds / 0x10000) >>> 0) * 1e9;
    const low = (lower >>> 0) + ((((upper & 0xffff) * 0x10000) >>> 0) + nanos);
    const high =
      (Math.floor(lower / 0x100000000) + ((upper / 0x10000) >>> 0) + Math.floor(low / 0x100000000)) >>> 0;
    this.fixed32(low >>> 0);
    this.fixed32(high);
  }

  /** A hex id as bytes (length-prefixed). */
  private hex(s: string): void {
    const n = s.length >> 1;
    this.ensure(n + 1);
    const b = this.buf;
    b[this.pos++] = n;
    for (let i = 0; i < s.length; i += 2)
      b[this.pos++] = (hexValue(s.charCodeAt(i)) << 4) | hexValue(s.charCodeAt(i + 1));
  }

  /** A UUID's 32 hex digits as 16 bytes (the trace id of an event without a caller's trace). */
  private uuidHex(id: string): void {
    this.ensure(17);
    const b = this.buf;
    b[this.pos++] = 16;
    let hi = -1;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      if (c === 45) continue; // '-'
      if (hi < 0) hi = hexValue(c);
      else {
        b[this.pos++] = (hi << 4) | hexValue(c);
        hi = -1;
      }
    }
  }

  private randomId(n: number): void {
    this.ensure(n + 1);
    this.buf[this.pos++] = n;
    for (let i = 0; i < n; i++) this.buf[this.pos++] = (Math.random() * 256) | 0;
  }

  private string(s: string): void {
    const len = s.length;
    let ascii = true;
    for (let i = 0; i < len; i++) {
      if (s.charCodeAt(i) > 127) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.varint(len);
      this.ensure(len);
      const b = this.buf;
      for (let i = 0; i < len; i++) b[this.pos++] = s.charCodeAt(i);
      return;
    }
    const bytes = this.textEncoder.encode(s);
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** One byte reserved for a length (most messages here are shorter than 128 bytes). */
  private startLength(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Writes the length at `at`, moving the content on when it needs more than one byte. */
  private finishLength(at: number, contentStart: number): void {
    const len = this.pos - contentStart;
    const size = varintSize(len);
    if (size > 1) {
      this.ensure(size - 1);
      this.buf.copyWithin(at + size, contentStart, this.pos);
      this.pos += size - 1;
    }
    let v = len;
    let p = at;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
  }
}

const HEX16 = /^[0-9a-f]{16}$/;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return c - 55;
}

function varintSize(v: number): number {
  let n = 1;
  while (v > 0x7f) {
    v >>>= 7;
    n++;
  }
  return n;
}

function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}
