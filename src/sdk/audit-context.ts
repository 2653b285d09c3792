import { AsyncLocalStorage } from 'node:async_hooks';
import type { Attribution } from '../capture/exchange.js';
import { cleanHeaderValue } from '../capture/header-value.js';

/** Attribution given by the caller; every field optional. */
export type AttributionInput = Partial<Attribution>;

/** Request headers that carry attribution, as the gateway reads them (DESIGN.md "Names"). */
const HEADER_OF: Record<keyof Attribution, string> = {
  user: 'x-tollgate-user',
  session: 'x-tollgate-session',
  feature: 'x-tollgate-feature',
  source: 'x-tollgate-source',
  team: 'x-tollgate-team',
};

const FIELDS = Object.keys(HEADER_OF) as Array<keyof Attribution>;

/**
 * Per-call attribution through an async context: `run(attr, fn)` makes `attr` visible to every
 * audited call made inside `fn`, across awaits, without globals. Nested runs add to the outer one.
 */
export class AuditContext {
  private readonly storage = new AsyncLocalStorage<AttributionInput>();

  run<T>(attribution: AttributionInput, fn: () => T): T {
    const outer = this.storage.getStore();
    return this.storage.run(outer ? { ...outer, ...definedOnly(attribution) } : definedOnly(attribution), fn);
  }

  current(): AttributionInput | undefined {
    return this.storage.getStore();
  }
}

/**
 * The attribution of one call, field by field, first found wins: `x-tollgate-*` request headers
 * (as with the gateway), the call's own option, the async context, the auditor's defaults. Values are
 * cleaned like header values (control characters neutralised, length bounded).
 */
export function resolveAttribution(
  headers: Record<string, string> | null,
  ...layers: Array<AttributionInput | undefined>
): Attribution {
  const out: Attribution = { user: null, session: null, feature: null, source: null, team: null };
  for (const f of FIELDS) {
    const fromHeader = headers?.[HEADER_OF[f]];
    let v: string | null | undefined = fromHeader;
    for (let i = 0; v === undefined && i < layers.length; i++) v = layers[i]?.[f] ?? undefined;
    out[f] = v === undefined || v === null ? null : cleanHeaderValue(v);
  }
  return out;
}

/** Headers that attribute one call made through the gateway or the audited fetch. */
export function attributionHeaders(attribution: AttributionInput): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of FIELDS) {
    const v = attribution[f];
    if (typeof v === 'string' && v !== '') out[HEADER_OF[f]] = v;
  }
  return out;
}

function definedOnly(a: AttributionInput): AttributionInput {
  const out: AttributionInput = {};
  for (const f of FIELDS) if (a[f] !== undefined) out[f] = a[f];
  return out;
}
