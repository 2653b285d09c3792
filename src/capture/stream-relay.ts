/**
 * The usage request and the usage-chunk filter of a streamed exchange, shared by the gateway and
 * the SDK: Tollgate asks the provider for usage (`stream_options.include_usage`) even when the
 * caller did not, so the event carries reported tokens, and hides that extra chunk from the caller.
 */
import { isUsageOnlyChunk, type SseAssembler } from './sse-assembler.js';

/** Endpoints whose streams carry usage when asked with `stream_options.include_usage`. */
export const USAGE_STREAM_ENDPOINTS: ReadonlySet<string> = new Set(['/chat/completions', '/completions']);

/**
 * The request body to send upstream. When the caller streams a usage-capable endpoint without
 * asking for usage, the body is re-serialised with `include_usage: true` and `stripUsage` is set.
 */
export function requestStreamUsage(
  endpoint: string,
  parsed: Record<string, unknown> | null,
  raw: Buffer | null,
): { body: Buffer | null; stripUsage: boolean } {
  if (!parsed || parsed.stream !== true || !USAGE_STREAM_ENDPOINTS.has(endpoint)) return { body: raw, stripUsage: false };
  const so = parsed.stream_options;
  const asked = so && typeof so === 'object' && (so as { include_usage?: unknown }).include_usage === true;
  if (asked) return { body: raw, stripUsage: false };
  let text: string;
  try {
    text = JSON.stringify({ ...parsed, stream_options: { ...(so && typeof so === 'object' ? so : {}), include_usage: true } });
  } catch {
    // Too deep to re-serialise (RangeError): forward the body as sent, usage will be estimated.
    return { body: raw, stripUsage: false };
  }
  return { body: Buffer.from(text), stripUsage: true };
}

/**
 * Feeds one upstream chunk to the assembler and returns what to pass on to the caller: the chunk
 * itself when nothing is hidden (providers flush whole events, so that is the usual case), the
 * re-joined events without the usage-only one, or null when nothing is left to send.
 */
export function relayStreamChunk(
  assembler: SseAssembler,
  decoder: InstanceType<typeof TextDecoder>,
  chunk: Buffer,
  stripUsage: boolean,
): Buffer | string | null {
  const aligned = assembler.atBoundary;
  const events = assembler.push(decoder.decode(chunk, { stream: true }));
  if (!stripUsage) return chunk;
  let usageAt = -1;
  for (let i = 0; i < events.length; i++) if (isUsageOnlyChunk(events[i]!)) usageAt = i;
  if (usageAt < 0 && aligned && assembler.atBoundary) return chunk;
  let out = '';
  for (let i = 0; i < events.length; i++) if (i !== usageAt) out += events[i]!.raw;
  return out || null;
}
