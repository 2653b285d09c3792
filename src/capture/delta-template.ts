/**
 * The shape of a typed text-delta event (Responses `response.output_text.delta`, Anthropic
 * `content_block_delta`), taken from one such event the assembler parsed, so that later events of
 * the same shape are read without a full `JSON.parse`: a stream is mostly these events, and each
 * full parse builds an object only to read one string from it.
 *
 * A template is the event's JSON text cut into fixed literals and holes: the text string, and the
 * number or string values under the spec's `varying` keys (ids, indexes, sequence numbers the reader
 * ignores). A later event fits when it is the same literals with, in each hole, one valid JSON
 * token of the hole's kind. JSON tokenises the same around a replaced string or number token, so
 * such an event parses to the same object but for the hole values: the same keys in the same
 * order, the same `type`, the text at the same path. Anything else — another shape, an escaped or
 * repeated key, an empty text, invalid JSON — is parsed in full.
 *
 * A template depends only on its literals, so one learnt from an earlier stream serves later ones
 * (`TemplateCache`): the ids, indexes and counters that differ between streams are holes.
 */
import type { TextDeltaEvent } from '../providers/provider-api.js';

/**
 * Where the text of a delta event is and what its reader ignores: a spec's `TextDeltaEvent`
 * without its `type`, or the assembler's plain chat chunk. `null` in `text` is an array's item.
 */
export interface DeltaShape {
  readonly text: ReadonlyArray<string | null>;
  readonly varying: readonly string[];
}

/** What a hole holds: the text, or a number or string value the reader ignores. */
const Hole = { Text: 0, Number: 1, String: 2 } as const;
type Hole = (typeof Hole)[keyof typeof Hole];

/** Deepest nesting a template is taken from (delta events are two or three levels deep). */
const MAX_DEPTH = 16;

export class DeltaTemplate {
  private constructor(
    /** One more literal than holes: literal, hole, literal, …, literal. */
    private readonly literals: readonly string[],
    private readonly holes: readonly Hole[],
    /**
     * The event's `model`, for a reader that reads it from every event (chat chunks): an event
     * that fits also says this model. Null when the reader does not (typed deltas carry none).
     */
    readonly model: string | null,
  ) {}

  /**
   * The template of `data` (whose full parse is `parsed`), when it is an event of one of `kinds`
   * with a non-empty text, plainly spelled keys and no key twice in one object; otherwise null.
   */
  static from(
    data: string,
    parsed: Record<string, unknown>,
    kinds: readonly TextDeltaEvent[],
  ): DeltaTemplate | null {
    const kind = kinds.find((k) => k.type === parsed.type);
    return kind ? DeltaTemplate.of(data, parsed, kind, null) : null;
  }

  /** The template of `data` (parsed: `parsed`) for an event of `shape`, or null (see `from`). */
  static of(
    data: string,
    parsed: Record<string, unknown>,
    shape: DeltaShape,
    model: string | null,
  ): DeltaTemplate | null {
    let at: unknown = parsed;
    for (const key of shape.text)
      at = at !== null && typeof at === 'object' ? (at as never)[key ?? 0] : undefined;
    if (typeof at !== 'string' || at === '') return null;
    const scan = new TemplateScan(data, shape);
    if (scan.value(scan.skipWs(0), [], 0) !== data.length || scan.textHoles !== 1) return null;
    const t = new DeltaTemplate(scan.literals(), scan.holes, model);
    // The text hole was found where the parse put the text (guards the scan itself).
    return t.textOf(data) === at ? t : null;
  }

  /** The text of an event that fits this template, or null: parse the event in full. */
  textOf(data: string): string | null {
    const { literals, holes } = this;
    if (!data.startsWith(literals[0]!)) return null;
    let at = literals[0]!.length;
    let text: string | null = null;
    for (let h = 0; h < holes.length; h++) {
      const kind = holes[h];
      const end = kind === Hole.Number ? numberEnd(data, at) : stringEnd(data, at);
      if (end < 0) return null;
      if (kind === Hole.Text) {
        // Escapes are decoded by JSON.parse itself, on the string token alone.
        text = lastStringEscaped ? (JSON.parse(data.slice(at, end)) as string) : data.slice(at + 1, end - 1);
      }
      const literal = literals[h + 1]!;
      if (!literalAt(data, literal, end)) return null;
      at = end + literal.length;
    }
    return at === data.length && text !== '' ? text : null;
  }
}

/**
 * `s.startsWith(literal, at)`, several times cheaper: V8 (Node 20) takes a slow path for
 * `startsWith` with a position, while comparing a slice is a flat compare.
 */
function literalAt(s: string, literal: string, at: number): boolean {
  return s.length - at >= literal.length && s.slice(at, at + literal.length) === literal;
}

/** Whether the string token `stringEnd` last accepted holds an escape. */
let lastStringEscaped = false;

/**
 * Index just past the valid JSON string token (RFC 8259 §7) that starts at `at`, or -1: no
 * control characters, and only the escapes `\" \\ \/ \b \f \n \r \t \uXXXX`.
 */
function stringEnd(s: string, at: number): number {
  if (s.charCodeAt(at) !== 0x22) return -1;
  let escaped = false;
  for (let i = at + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      lastStringEscaped = escaped;
      return i + 1;
    }
    if (c < 0x20) return -1;
    if (c === 0x5c) {
      escaped = true;
      const e = s.charCodeAt(++i);
      if (e === 0x75) {
        for (let k = 0; k < 4; k++) if (!isHexDigit(s.charCodeAt(++i))) return -1;
      } else if (!SIMPLE_ESCAPES.has(e)) return -1;
    }
  }
  return -1;
}

/** `" \ / b f n r t` after a backslash. */
const SIMPLE_ESCAPES: ReadonlySet<number> = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Index just past the JSON number token (RFC 8259 §6) that starts at `at`, or -1; as NUMBER matches. */
function numberEnd(s: string, at: number): number {
  let i = at;
  if (s.charCodeAt(i) === 0x2d) i++;
  const first = s.charCodeAt(i);
  if (first === 0x30) i++;
  else if (first >= 0x31 && first <= 0x39) i = digitsEnd(s, i + 1);
  else return -1;
  if (s.charCodeAt(i) === 0x2e && isDigit(s.charCodeAt(i + 1))) i = digitsEnd(s, i + 2);
  const e = s.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    let j = i + 1;
    const sign = s.charCodeAt(j);
    if (sign === 0x2b || sign === 0x2d) j++;
    if (isDigit(s.charCodeAt(j))) i = digitsEnd(s, j + 1);
  }
  return i;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function digitsEnd(s: string, i: number): number {
  while (isDigit(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Templates learnt from earlier streams, per provider API, shared by every stream one gateway (or
 * SDK client) relays: a stream's first text delta then fits a template instead of being parsed and
 * scanned again. Bounded: the newest few per API are kept.
 */
export class TemplateCache {
  private readonly byApi = new Map<string, DeltaTemplate[]>();

  constructor(private readonly perApi = 4) {}

  /** The templates kept for `apiId`, newest first. */
  of(apiId: string): readonly DeltaTemplate[] {
    return this.byApi.get(apiId) ?? NONE;
  }

  add(apiId: string, template: DeltaTemplate): void {
    const kept = this.byApi.get(apiId);
    if (!kept) this.byApi.set(apiId, [template]);
    else {
      kept.unshift(template);
      if (kept.length > this.perApi) kept.length = this.perApi;
    }
  }
}

const NONE: readonly DeltaTemplate[] = [];

/** A JSON number token, matched where a number hole starts. */
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Characters after which a JSON string body is not its own value (escapes, quotes, controls). */
const NEEDS_JSON_DECODING = /["\\\u0000-\u001f]/;

/** Index of the quote that closes the JSON string whose body starts at `from`, or -1. */
function closingQuote(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i;
  }
  return -1;
}

/**
 * A recursive-descent scan of one JSON text that records where the holes are. It accepts only
 * what it needs to (it runs on text `JSON.parse` accepted); any doubt returns -1 (no template).
 */
class TemplateScan {
  readonly holes: Hole[] = [];
  private readonly spans: Array<[number, number]> = [];
  textHoles = 0;

  constructor(
    private readonly s: string,
    private readonly kind: DeltaShape,
  ) {}

  /** The literals between the holes. */
  literals(): string[] {
    const out: string[] = [];
    let from = 0;
    for (const [start, end] of this.spans) {
      out.push(this.s.slice(from, start));
      from = end;
    }
    out.push(this.s.slice(from));
    return out;
  }

  skipWs(i: number): number {
    const s = this.s;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    return i;
  }

  /** Scans the value at `i` (`path`: the keys leading to it; null in it marks an array item); returns the index after it and its trailing whitespace. */
  value(i: number, path: Array<string | null>, depth: number): number {
    const s = this.s;
    if (depth > MAX_DEPTH || i < 0) return -1;
    const c = s.charCodeAt(i);
    let end: number;
    if (c === 0x7b) end = this.object(i, path, depth);
    else if (c === 0x5b) end = this.array(i, path, depth);
    else if (c === 0x22) {
      const close = closingQuote(s, i + 1);
      if (close < 0) return -1;
      end = close + 1;
      if (this.isText(path)) this.hole(Hole.Text, i, end);
      else if (this.isVarying(path)) this.hole(Hole.String, i, end);
    } else {
      NUMBER.lastIndex = i;
      if (NUMBER.test(s)) {
        end = NUMBER.lastIndex;
        if (this.isVarying(path)) this.hole(Hole.Number, i, end);
      } else if (s.startsWith('true', i)) end = i + 4;
      else if (s.startsWith('false', i)) end = i + 5;
      else if (s.startsWith('null', i)) end = i + 4;
      else return -1;
    }
    return end < 0 ? -1 : this.skipWs(end);
  }

  private object(i: number, path: Array<string | null>, depth: number): number {
    const s = this.s;
    const keys = new Set<string>();
    i = this.skipWs(i + 1);
    if (s.charCodeAt(i) === 0x7d) return i + 1;
    for (;;) {
      if (s.charCodeAt(i) !== 0x22) return -1;
      const close = closingQuote(s, i + 1);
      if (close < 0) return -1;
      const key = s.slice(i + 1, close);
      // An escaped key could spell a key twice (the last one wins in JSON.parse): no template.
      if (NEEDS_JSON_DECODING.test(key) || keys.has(key)) return -1;
      keys.add(key);
      i = this.skipWs(close + 1);
      if (s.charCodeAt(i) !== 0x3a) return -1;
      i = this.value(this.skipWs(i + 1), [...path, key], depth + 1);
      if (i < 0) return -1;
      const c = s.charCodeAt(i);
      if (c === 0x7d) return i + 1;
      if (c !== 0x2c) return -1;
      i = this.skipWs(i + 1);
    }
  }

  private array(i: number, path: Array<string | null>, depth: number): number {
    const s = this.s;
    i = this.skipWs(i + 1);
    if (s.charCodeAt(i) === 0x5d) return i + 1;
    for (;;) {
      i = this.value(i, [...path, null], depth + 1);
      if (i < 0) return -1;
      const c = s.charCodeAt(i);
      if (c === 0x5d) return i + 1;
      if (c !== 0x2c) return -1;
      i = this.skipWs(i + 1);
    }
  }

  private hole(kind: Hole, start: number, end: number): void {
    if (kind === Hole.Text) this.textHoles++;
    this.holes.push(kind);
    this.spans.push([start, end]);
  }

  private isText(path: ReadonlyArray<string | null>): boolean {
    const want = this.kind.text;
    return path.length === want.length && want.every((k, n) => path[n] === k);
  }

  /** Under a `varying` key (not `type`, whose value names the event), at any depth. */
  private isVarying(path: ReadonlyArray<string | null>): boolean {
    const key = path[path.length - 1];
    return typeof key === 'string' && key !== 'type' && this.kind.varying.includes(key);
  }
}
