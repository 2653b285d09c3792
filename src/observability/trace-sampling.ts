import type { AuditEvent } from '../core/audit-event.js';
import type { TraceContext } from '../capture/trace-context.js';

/**
 * Which events become spans. The audit trail keeps every event whatever this says: spans are for
 * latency and dependency views, so a busy gateway can send a share of them (OpenTelemetry
 * specification, "Built-in samplers": TraceIdRatioBased, ParentBased).
 */
export interface TraceSampling {
  /** Share of traces kept, 0…1 (1: every event, the default). */
  ratio: number;
  /** A request that carried a `traceparent` follows its caller's sampled flag (the default). */
  parentBased: boolean;
}

export const ALWAYS_ON: TraceSampling = { ratio: 1, parentBased: true };

const TWO_POW_48 = 2 ** 48;

/**
 * Decides before a span is built, so an unsampled event costs nothing (the SDK's own sampler runs
 * inside `startSpan`, after every attribute was made). Deterministic in the trace id: its lowest 48
 * bits compared with ratio × 2^48, so every decision for one trace agrees. Those bits are random in
 * W3C Trace Context level 2 ids (the rightmost 7 bytes) and in the UUIDv7 event ids Tollgate uses
 * when the request brought no trace (the `uuid` package keeps a counter in the bytes before them,
 * which made a 56-bit threshold keep 12.7 % at a 10 % ratio).
 */
export function isSampled(s: TraceSampling, e: AuditEvent, caller: TraceContext | null): boolean {
  const continued = caller !== null && e.trace_id === caller.traceId;
  // W3C Trace Context §3.2.2.5: bit 0 of trace-flags is "sampled".
  if (continued && s.parentBased) return (parseInt(caller.flags, 16) & 1) === 1;
  if (s.ratio >= 1) return true;
  if (s.ratio <= 0) return false;
  const traceId = continued ? caller.traceId : e.id.replace(/-/g, '');
  const low = Number.parseInt(traceId.slice(-12), 16);
  return Number.isFinite(low) && low < s.ratio * TWO_POW_48;
}

/**
 * `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` (the specification's names; default
 * `parentbased_always_on`). Null for a value Tollgate does not know (the caller says so).
 */
export function samplingFromEnv(name: string | undefined, arg: string | undefined): TraceSampling | null {
  const ratioArg = (): number => {
    const n = Number(arg);
    return arg !== undefined && arg.trim() !== '' && Number.isFinite(n) && n >= 0 && n <= 1 ? n : 1;
  };
  switch ((name ?? 'parentbased_always_on').trim().toLowerCase()) {
    case 'always_on':
      return { ratio: 1, parentBased: false };
    case 'always_off':
      return { ratio: 0, parentBased: false };
    case 'traceidratio':
      return { ratio: ratioArg(), parentBased: false };
    case 'parentbased_always_on':
      return { ratio: 1, parentBased: true };
    case 'parentbased_always_off':
      return { ratio: 0, parentBased: true };
    case 'parentbased_traceidratio':
      return { ratio: ratioArg(), parentBased: true };
    default:
      return null;
  }
}
