/**
 * The one cleaning every value from a client or a provider gets before it is stored, exported,
 * logged, chained or used as a metric label (issue 17): ids, names, model strings, the path,
 * headers and error text — every field of an event around the content. Content itself (prompt,
 * response) is the content policy's business (redactor.ts).
 *
 * In this order, because each step protects the next:
 * 1. well-formed Unicode (lone surrogates become U+FFFD): the hash is over what the store keeps;
 * 2. control characters (C0, DEL, C1, line/paragraph separators, bidi overrides) become one space
 *    per run: no value can forge a log line, an ANSI sequence or reorder a table;
 * 3. secrets redacted, and in free text from a provider (`error_message`) personal data too when
 *    the content mode stores content redacted (`redacted`, `none`); a provider's masked key
 *    (`sk-abc1****WXYZ`) is replaced as well — all on the WHOLE value, so a secret that straddles
 *    the bound cannot keep its first characters;
 * 4. only then the bound: cut at a code-point boundary, marked with `…`.
 *
 * A value longer than PRE_BOUND (64 KiB; a provider's error page, a 10 MB `model`) is first cut
 * there, so redaction stays cheap, and the run of non-space characters at that cut is dropped too:
 * a token across it is never half kept. Every field bound is far below PRE_BOUND, so nothing from
 * near that cut reaches the stored value unless redaction shrank the text by ~63 KiB before it.
 *
 * The pipeline applies it in one place (pipeline.ts): right after capture for every exchange of
 * the gateway and the SDK, and to every event recorded without an exchange (admin actions).
 */
import type { AuditEvent, ContentMode, RedactionCount } from '../core/audit-event.js';
import type { FieldCleaner as FieldCleanerStage } from '../core/stages.js';
import { DEFAULT_CONTENT_POLICY, resolvePolicy, type ContentPolicy } from './content-policy.js';
import { stripControlCharacters } from './control-characters.js';
import { PII_TYPES, SECRET_TYPES } from './detector.js';
import { addRedactionCounts, createTextRedactor, type TextRedactor } from './text-redactor.js';

/** What a field's text is checked for: secrets always; `provider_text` also personal data in redacted modes. */
export type FieldKind = 'id' | 'provider_text';

/** How one field is cleaned: its kind and its bound (characters, after redaction). */
export interface FieldRule {
  kind: FieldKind;
  bound: number;
}

/**
 * Every event field whose value can come from a client or a provider, with its bound. Each is
 * listed in docs/privacy.md ("Fields around the content"); a test keeps the two in step.
 */
export const CLEANED_FIELDS = {
  request_id: { kind: 'id', bound: 128 },
  trace_id: { kind: 'id', bound: 64 },
  span_id: { kind: 'id', bound: 32 },
  ip_address: { kind: 'id', bound: 64 },
  user_agent: { kind: 'id', bound: 256 },
  request_source: { kind: 'id', bound: 256 },
  endpoint: { kind: 'id', bound: 256 },
  http_method: { kind: 'id', bound: 16 },
  model_requested: { kind: 'id', bound: 200 },
  model_used: { kind: 'id', bound: 200 },
  api_key_prefix: { kind: 'id', bound: 16 },
  error_code: { kind: 'id', bound: 128 },
  error_message: { kind: 'provider_text', bound: 1024 },
  finish_reason: { kind: 'id', bound: 64 },
  user_id: { kind: 'id', bound: 256 },
  session_id: { kind: 'id', bound: 256 },
  feature_name: { kind: 'id', bound: 256 },
  team: { kind: 'id', bound: 256 },
} as const satisfies Partial<Record<keyof AuditEvent, FieldRule>>;

export type CleanedField = keyof typeof CLEANED_FIELDS;

const FIELDS = Object.keys(CLEANED_FIELDS) as CleanedField[];

/** Fields cleaned before the content policy is resolved: the policy is chosen by key and feature. */
const FIRST: readonly CleanedField[] = ['feature_name', 'api_key_prefix'];

/** Longest value redaction looks at (characters); far above every field bound. */
export const PRE_BOUND = 64 * 1024;

/**
 * Fields that differ in every event (ids generated per request): not worth remembering. The
 * other `id` fields remember up to CLEAN_CACHE_SIZE clean values each, then start over.
 */
const UNIQUE_FIELDS: ReadonlySet<CleanedField> = new Set(['request_id', 'trace_id', 'span_id']);
const CLEAN_CACHE_SIZE = 512;

/** The mark a cut value ends with. */
export const CUT_MARK = '…';

/** What providers print of a key they refuse: a few characters, a run of `*`, the last few. */
const MASKED_KEY = /[A-Za-z0-9_-]{0,64}\*{4,}[A-Za-z0-9_-]{0,64}/g;
const MASKED_KEY_MARK = '[REDACTED:masked_key]';

/** Cleans the client- and provider-supplied fields of an event, in place. */
export interface FieldCleaner extends FieldCleanerStage {
  /** Cleans every field of CLEANED_FIELDS and adds what it redacted to `event.redactions`. */
  clean(event: AuditEvent): void;
  /** Cleans one value as `field` is cleaned (for values used before an event exists, e.g. metric labels). */
  cleanValue(field: CleanedField, value: string, mode?: ContentMode): string;
}

/** Cuts `value` to at most `bound` characters (with the mark), never inside a surrogate pair. */
export function cutToBound(value: string, bound: number): string {
  if (value.length <= bound) return value;
  let end = bound - CUT_MARK.length;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return value.slice(0, end) + CUT_MARK;
}

/**
 * Builds the cleaner for a content policy (the same policy as the redactor's, so `redacted` mode
 * also removes personal data from a provider's error text). Detectors are compiled once here.
 */
export function createFieldCleaner(policy: ContentPolicy = DEFAULT_CONTENT_POLICY): FieldCleaner {
  const options =
    policy.phoneDefaultCountry !== undefined ? { phoneDefaultCountry: policy.phoneDefaultCountry } : {};
  // Every secret type, whatever the policy's switches: a field around the content is no place for
  // a secret, and a switch meant for content must not open the headers.
  const secrets = createTextRedactor(new Set(SECRET_TYPES), options);
  const all = createTextRedactor(new Set([...SECRET_TYPES, ...PII_TYPES]), options);
  const layered = Object.keys(policy.perKey ?? {}).length + Object.keys(policy.perFeature ?? {}).length > 0;
  const modeOf = (e: AuditEvent): ContentMode =>
    layered ? resolvePolicy(policy, e.virtual_key_id ?? e.api_key_id, e.feature_name).mode : policy.mode;

  // Values that came out clean before, per field: most fields repeat from event to event (the
  // endpoint, method, models, user agent, address, key prefix, user), and running every secret
  // detector over them again was most of the cleaning's CPU. Only a value with nothing redacted
  // and within its bound is kept, so the cache holds nothing the store does not hold.
  const cleanBefore = new Map<CleanedField, Map<string, string>>(
    FIELDS.filter((f) => CLEANED_FIELDS[f].kind === 'id' && !UNIQUE_FIELDS.has(f)).map((f) => [f, new Map()]),
  );

  const run = (
    field: CleanedField,
    value: string,
    mode: ContentMode,
  ): { text: string; redactions: RedactionCount[] } => {
    const seen = cleanBefore.get(field);
    const hit = seen?.get(value);
    if (hit !== undefined) return { text: hit, redactions: [] };
    const r = cleanOnce(field, value, mode);
    if (seen && r.redactions.length === 0 && value.length <= CLEANED_FIELDS[field].bound) {
      if (seen.size >= CLEAN_CACHE_SIZE) seen.clear();
      seen.set(value, r.text);
    }
    return r;
  };

  const cleanOnce = (
    field: CleanedField,
    value: string,
    mode: ContentMode,
  ): { text: string; redactions: RedactionCount[] } => {
    const rule: FieldRule = CLEANED_FIELDS[field];
    let text = stripControlCharacters(preBound(value.isWellFormed() ? value : value.toWellFormed()));
    const redactor: TextRedactor =
      rule.kind === 'provider_text' && (mode === 'redacted' || mode === 'none') ? all : secrets;
    const r = redactor.redact(text);
    text = r.text;
    let redactions = r.redactions;
    if (text.includes('****')) {
      let n = 0;
      text = text.replace(MASKED_KEY, () => {
        n++;
        return MASKED_KEY_MARK;
      });
      redactions = addRedactionCounts(redactions, [{ type: 'masked_key', count: n }]);
    }
    return { text: cutToBound(text, rule.bound), redactions };
  };

  return {
    clean(event: AuditEvent): void {
      let counts: RedactionCount[] = event.redactions;
      const record = event as unknown as Record<string, unknown>;
      const cleanField = (field: CleanedField, mode: ContentMode): void => {
        const v = record[field];
        if (typeof v !== 'string') return;
        const r = run(field, v, mode);
        record[field] = r.text.length > 0 ? r.text : null;
        if (r.redactions.length > 0) counts = addRedactionCounts(counts, r.redactions);
      };
      for (const f of FIRST) cleanField(f, policy.mode);
      const mode = modeOf(event);
      for (const f of FIELDS) if (!FIRST.includes(f)) cleanField(f, mode);
      event.redactions = counts;
    },
    cleanValue(field, value, mode = policy.mode) {
      return run(field, value, mode).text;
    },
  };
}

/** `value` cut at PRE_BOUND, without the partial token at the cut (see the file comment). */
function preBound(value: string): string {
  if (value.length <= PRE_BOUND) return value;
  let end = PRE_BOUND;
  // Back to the last whitespace or control character (a scan, not a regex: linear for sure).
  while (end > 0 && !/[\s\u0000-\u001f\u007f-\u009f]/.test(value[end - 1]!)) end--;
  return value.slice(0, end);
}
