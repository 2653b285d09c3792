/** A parsed W3C `traceparent` (Trace Context Level 1 §3.2). */
export interface TraceContext {
  traceId: string;
  parentSpanId: string;
  flags: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Parses `traceparent`; returns null for anything malformed. §3.2.2: version ff is invalid,
 * all-zero trace and parent ids are invalid, and version 00 has no trailing fields.
 */
export function parseTraceparent(header: string | undefined): TraceContext | null {
  if (!header || header.length > 512) return null;
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m) return null;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === 'ff') return null;
  if (version === '00' && rest) return null;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return null;
  return { traceId: traceId!, parentSpanId: spanId!, flags: flags! };
}
