/**
 * Counts the elements of one top-level array of a JSON object (`{"data": [ … ]}`) as its bytes
 * pass, without keeping them: an answer larger than the kept body (OpenAI Images with
 * `b64_json`, megabytes per image) still says how many units it billed. Reads bytes, not text:
 * every structural character of JSON is ASCII, and no byte of a multi-byte UTF-8 character is.
 * Chunks may be cut anywhere. Inside strings it jumps to the next quote or backslash.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Longest key compared; longer keys are never the one asked for. */
const MAX_KEY_BYTES = 64;

export class TopLevelArrayCounter {
  private readonly key: Buffer;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The string being read is a key of the top-level object: its first bytes. */
  private keyBytes: number[] | null = null;
  private lastKeyMatched = false;
  /** After `"key":` at depth 1: the next value is the array to count. */
  private awaitingValue = false;
  private inArray = false;
  private elements = 0;
  private sawElement = false;
  private done = false;

  constructor(key: string) {
    this.key = Buffer.from(key, 'utf8');
  }

  /**
   * The array's element count once its closing `]` has passed; null before, and when the object
   * has no such array.
   */
  get count(): number | null {
    return this.done ? this.elements : null;
  }

  push(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    while (i < n && !this.done) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          this.keyBytes?.push(chunk[i]!);
          i++;
          continue;
        }
        const stop = nextQuoteOrBackslash(chunk, i);
        if (this.keyBytes !== null)
          for (let k = i; k < stop && this.keyBytes.length <= MAX_KEY_BYTES; k++)
            this.keyBytes.push(chunk[k]!);
        if (stop >= n) return;
        if (chunk[stop] === BACKSLASH) {
          this.escaped = true;
          this.keyBytes?.push(BACKSLASH);
        } else {
          this.inString = false;
          if (this.keyBytes !== null) {
            this.lastKeyMatched = this.key.equals(Buffer.from(this.keyBytes));
            this.keyBytes = null;
          }
        }
        i = stop + 1;
        continue;
      }
      const b = chunk[i]!;
      i++;
      if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
      if (this.awaitingValue) {
        this.awaitingValue = false;
        if (b === OPEN_ARRAY) {
          this.inArray = true;
          this.depth++;
          continue;
        }
      }
      if (this.inArray && this.depth === 2) {
        if (b === CLOSE_ARRAY) {
          this.done = true;
          return;
        }
        if (b === COMMA) this.elements++;
        else if (!this.sawElement) {
          this.sawElement = true;
          this.elements = 1;
        }
      }
      switch (b) {
        case QUOTE:
          this.inString = true;
          // At depth 1 outside any value, a string is a key.
          this.keyBytes = this.depth === 1 && !this.inArray ? [] : null;
          if (this.keyBytes !== null) this.lastKeyMatched = false;
          break;
        case COLON:
          if (this.depth === 1 && this.lastKeyMatched) this.awaitingValue = true;
          this.lastKeyMatched = false;
          break;
        case OPEN_OBJECT:
        case OPEN_ARRAY:
          this.depth++;
          break;
        case CLOSE_OBJECT:
        case CLOSE_ARRAY:
          this.depth--;
          break;
      }
    }
  }
}

function nextQuoteOrBackslash(chunk: Uint8Array, from: number): number {
  const q = chunk.indexOf(QUOTE, from);
  const s = chunk.indexOf(BACKSLASH, from);
  if (q < 0) return s < 0 ? chunk.length : s;
  return s < 0 || q < s ? q : s;
}
