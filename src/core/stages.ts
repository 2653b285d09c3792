/**
 * The stage interfaces of the audit pipeline (DESIGN.md "Two ways in, one pipeline"):
 * capture → redact → price → chain → writer, with detectors watching the written stream.
 * Each capability folder implements one of these; src/pipeline/ wires them.
 */
import type { AuditEvent } from '../core/audit-event.js';

/**
 * Raw content of one exchange as captured. It lives only between capture and redaction:
 * the redact stage turns it into the stored form and it is dropped afterwards.
 */
export interface RawContent {
  /** The request's prompt text (messages / input / prompt), flattened for storage. */
  prompt: string | null;
  /** The assembled response text, including tool-call arguments. */
  response: string | null;
  /** Header values that end up in the event (user agent, attribution) — already copied to the event. */
}

/** Applies the content policy: fills prompt/response/redactions/content_mode and cleans free-text fields. */
export interface Redactor {
  apply(event: AuditEvent, raw: RawContent): void;
}

/**
 * Cleans the client- and provider-supplied fields around the content (ids, headers, model, path,
 * error text), in place: src/redaction/field-cleaning.ts. Runs before the redactor.
 */
export interface FieldCleaner {
  clean(event: AuditEvent): void;
}

/** Fills cost_micro_usd and pricing_version from the price catalog (null cost when unpriced). */
export interface Pricer {
  /** `billing`: counts the event has no field for (Anthropic cache writes), from capture. */
  price(event: AuditEvent, billing?: { cache_write_tokens: number | null }): void;
}

/** Gives the event its chain position and hash (tamper evidence). Called in write order. */
export interface Chainer {
  link(event: AuditEvent): void;
}

/** Watches events after they are linked; may mark them and return alerts. Never throws. */
export interface EventObserver {
  observe(event: AuditEvent): void;
}
