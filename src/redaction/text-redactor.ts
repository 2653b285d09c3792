/**
 * Runs a fixed set of compiled detectors over a text and replaces what they find with
 * `[REDACTED:<type>]`. Overlapping findings are merged into one span (never left partly
 * visible); the type is that of the earliest-starting, highest-priority finding.
 */
import type { RedactionCount } from '../core/audit-event.js';
import {
  PII_TYPES,
  SECRET_TYPES,
  type Detector,
  type DetectorType,
  type Finding,
  type PiiType,
  type SecretType,
} from './detector.js';
import { AssignmentDetector } from './assignment-detector.js';
import { createPiiDetectors, type PiiOptions } from './pii-rules.js';
import { PrivateKeyDetector } from './private-key-detector.js';
import { createTokenDetectors } from './secret-rules.js';
import { UrlPasswordDetector } from './url-password-detector.js';

/** The result of redacting one text. `redactions` is sorted by type. */
export interface RedactionResult {
  text: string;
  redactions: RedactionCount[];
}

/** A compiled set of detectors. */
export interface TextRedactor {
  redact(text: string): RedactionResult;
  /** The merged spans `redact` would replace, in text order. */
  findings(text: string): Finding[];
}

const PRIORITY = new Map<DetectorType, number>([...SECRET_TYPES, ...PII_TYPES].map((t, i) => [t, i]));

/** The replacement marker for a type. */
export function redactionMarker(type: DetectorType): string {
  return `[REDACTED:${type}]`;
}

/** Builds a text redactor for the enabled types. Compiles every pattern now, not per call. */
export function createTextRedactor(
  enabled: ReadonlySet<DetectorType>,
  options: PiiOptions = {},
): TextRedactor {
  const on = (t: DetectorType): boolean => enabled.has(t);
  const detectors: Detector[] = [...createTokenDetectors((t: SecretType) => on(t))];
  if (on('private_key')) detectors.push(new PrivateKeyDetector());
  if (on('db_password') || on('password'))
    detectors.push(new UrlPasswordDetector({ database: on('db_password'), other: on('password') }));
  if (on('password') || on('generic_secret')) detectors.push(new AssignmentDetector((t) => on(t)));
  detectors.push(...createPiiDetectors((t: PiiType) => on(t), options));

  const findings = (text: string): Finding[] => {
    const found: Finding[] = [];
    for (const d of detectors) d.find(text, found);
    if (found.length <= 1) return found;
    found.sort(
      (a, b) =>
        a.start - b.start || (PRIORITY.get(a.type) ?? 0) - (PRIORITY.get(b.type) ?? 0) || b.end - a.end,
    );
    const merged: Finding[] = [];
    let cur = { ...found[0]! };
    for (let i = 1; i < found.length; i++) {
      const f = found[i]!;
      if (f.start < cur.end) {
        if (f.end > cur.end) cur.end = f.end;
      } else {
        merged.push(cur);
        cur = { ...f };
      }
    }
    merged.push(cur);
    return merged;
  };

  return {
    findings,
    redact(text: string): RedactionResult {
      const spans = findings(text);
      if (spans.length === 0) return { text, redactions: [] };
      const counts = new Map<DetectorType, number>();
      let out = '';
      let pos = 0;
      for (const f of spans) {
        out += text.slice(pos, f.start) + redactionMarker(f.type);
        pos = f.end;
        counts.set(f.type, (counts.get(f.type) ?? 0) + 1);
      }
      out += text.slice(pos);
      return { text: out, redactions: sortCounts(counts) };
    },
  };
}

function sortCounts(counts: Map<string, number>): RedactionCount[] {
  return [...counts.entries()]
    .map(([type, count]) => ({ type, count }))
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** Adds `more` into `into` (both sorted by type), returning a new list sorted by type. */
export function addRedactionCounts(
  into: readonly RedactionCount[],
  more: readonly RedactionCount[],
): RedactionCount[] {
  if (more.length === 0) return [...into];
  const counts = new Map<string, number>();
  for (const r of [...into, ...more]) counts.set(r.type, (counts.get(r.type) ?? 0) + r.count);
  return sortCounts(counts);
}
