/**
 * The usage request and the usage-chunk filter of a streamed exchange, shared by the gateway and
 * the SDK: Tollgate asks the provider for usage (`stream_options.include_usage`) even when the
 * caller did not, so the event carries reported tokens, and hides that extra chunk from the caller.
 */
import { apiForEndpoint } from '../providers/registry.js';
import type { SseAssembler } from './sse-assembler.js';

const INCLUDE_USAGE = Buffer.from('"stream_options":{"include_usage":true},');

/**
 * The request body to send upstream. When the caller streams a usage-capable endpoint without
 * asking for usage, the body gets `stream_options.include_usage: true` and `stripUsage` is set.
 */
export function requestStreamUsage(
  endpoint: string,
  parsed: Record<string, unknown> | null,
  raw: Buffer | null,
): { body: Buffer | null; stripUsage: boolean } {
  // Only APIs whose streams carry usage when asked (the spec's `streamUsageOption`: chat, completions).
  if (!parsed || parsed.stream !== true || !apiForEndpoint(endpoint).streamUsageOption)
    return { body: raw, stripUsage: false };
  const so = parsed.stream_options;
  const asked = so && typeof so === 'object' && (so as { include_usage?: unknown }).include_usage === true;
  if (asked) return { body: raw, stripUsage: false };
  if (so === undefined && raw !== null) {
    // No stream_options at the top level: add it right after the opening brace. The client's bytes
    // are kept as sent, and nothing is re-serialised (parsed holds `stream`, so a key follows).
    const open = raw.indexOf(0x7b);
    if (open >= 0)
      return {
        body: Buffer.concat([raw.subarray(0, open + 1), INCLUDE_USAGE, raw.subarray(open + 1)]),
        stripUsage: true,
      };
  }
  let text: string;
  try {
    text = JSON.stringify({
      ...parsed,
      stream_options: { ...(so && typeof so === 'object' ? so : {}), include_usage: true },
    });
  } catch {
    // Too deep to re-serialise (RangeError): forward the body as sent, usage will be estimated.
    return { body: raw, stripUsage: false };
  }
  return { body: Buffer.from(text), stripUsage: true };
}

/**
 * Feeds one upstream chunk to the assembler and returns what to pass on to the caller: the chunk
 * itself when nothing is hidden (providers flush whole events, so that is the usual case), the
 * chunk or its re-joined events without the usage-only one(s), or null when nothing is left to send.
 */
export function relayStreamChunk(
  assembler: SseAssembler,
  decoder: InstanceType<typeof TextDecoder>,
  chunk: Buffer,
  stripUsage: boolean,
): Buffer | string | null {
  const aligned = assembler.atBoundary;
  const events = assembler.push(assembler.decode(decoder, chunk));
  if (!stripUsage) return chunk;
  let usageAt = -1;
  let usageEvents = 0;
  for (let i = 0; i < events.length; i++) {
    if (events[i]!.usageOnly) {
      usageAt = i;
      usageEvents++;
    }
  }
  const whole = aligned && assembler.atBoundary;
  if (usageEvents === 0 && whole) return chunk;
  if (whole && usageEvents === 1) {
    // The chunk is exactly its events: cut the usage event's bytes out of it instead of encoding
    // the others again. Character offsets are byte offsets when the text is all ASCII.
    let from = 0;
    let chars = 0;
    for (let i = 0; i < events.length; i++) {
      if (i === usageAt) from = chars;
      chars += events[i]!.raw.length;
    }
    if (chars === chunk.length) {
      const to = from + events[usageAt]!.raw.length;
      if (from === 0 && to === chunk.length) return null;
      return to === chunk.length
        ? chunk.subarray(0, from)
        : Buffer.concat([chunk.subarray(0, from), chunk.subarray(to)]);
    }
  }
  let out = '';
  for (let i = 0; i < events.length; i++) if (!events[i]!.usageOnly) out += events[i]!.raw;
  return out || null;
}
