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
 */
import type { TextDeltaEvent } from '../providers/provider-api.js';

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
    if (!kind) return null;
    let at: unknown = parsed;
    for (const key of kind.text) at = at !== null && typeof at === 'object' ? (at as never)[key] : undefined;
    if (typeof at !== 'string' || at === '') return null;
    const scan = new TemplateScan(data, kind);
    if (scan.value(scan.skipWs(0), [], 0) !== data.length || scan.textHoles !== 1) return null;
    const t = new DeltaTemplate(scan.literals(), scan.holes);
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
      let end: number;
      if (holes[h] === Hole.Number) {
        NUMBER.lastIndex = at;
        if (!NUMBER.test(data)) return null;
        end = NUMBER.lastIndex;
      } else {
        if (data.charCodeAt(at) !== 0x22) return null;
        const close = closingQuote(data, at + 1);
        if (close < 0) return null;
        const value = jsonStringBody(data.slice(at + 1, close));
        if (value === null) return null;
        if (holes[h] === Hole.Text) text = value;
        end = close + 1;
      }
      const literal = literals[h + 1]!;
      if (!data.startsWith(literal, end)) return null;
      at = end + literal.length;
    }
    return at === data.length && text !== '' ? text : null;
  }
}

/** A JSON number token, matched where a number hole starts. */
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Characters after which a JSON string body is not its own value (escapes, quotes, controls). */
export const NEEDS_JSON_DECODING = /["\\\u0000-\u001f]/;

/** The value of a JSON string body (what is between its quotes), or null when it is not valid JSON. */
function jsonStringBody(body: string): string | null {
  if (!NEEDS_JSON_DECODING.test(body)) return body;
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    return null;
  }
}

/** Index of the quote that closes the JSON string whose body starts at `from`, or -1. */
export function closingQuote(s: string, from: number): number {
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
    private readonly kind: TextDeltaEvent,
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
