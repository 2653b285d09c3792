/**
 * Scores the redactor on the labelled corpus: recall and precision per type, printed as a
 * table. A planted value counts as found when one finding of its type covers all of it;
 * any other finding is a false positive of its type.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { blankEvent } from '../../src/core/audit-event.js';
import { PII_TYPES, SECRET_TYPES, isSecretType, type DetectorType } from '../../src/redaction/detector.js';
import { createRedactor } from '../../src/redaction/redactor.js';
import { createTextRedactor } from '../../src/redaction/text-redactor.js';
import { buildCorpus, type CorpusEntry } from './build-corpus.js';

const corpus: CorpusEntry[] = readFileSync(new URL('./corpus.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as CorpusEntry);

describe('redaction corpus', () => {
  it('is the committed output of build-corpus.ts', () => {
    expect(corpus).toEqual(buildCorpus());
  });

  it('meets recall ≥ 99% on secrets, ≥ 95% on personal data, and keeps every look-alike', () => {
    const all = createTextRedactor(new Set<DetectorType>([...SECRET_TYPES, ...PII_TYPES]));
    const secrets = createTextRedactor(new Set<DetectorType>(SECRET_TYPES));
    const stats = new Map<string, { planted: number; found: number; falsePositives: number }>();
    const stat = (t: string) => {
      let s = stats.get(t);
      if (!s) stats.set(t, (s = { planted: 0, found: 0, falsePositives: 0 }));
      return s;
    };
    const lookAlikeHits: string[] = [];

    for (const entry of corpus) {
      // Header values are redacted for secrets only, as the redactor does for those fields.
      const r = entry.context === 'header' ? secrets : all;
      const findings = r.findings(entry.text);
      const matched = new Set<number>();
      for (const exp of entry.expected) {
        stat(exp.type).planted++;
        const at = entry.text.indexOf(exp.value);
        const i = findings.findIndex(
          (f) => f.type === exp.type && f.start <= at && f.end >= at + exp.value.length,
        );
        if (at >= 0 && i >= 0) {
          stat(exp.type).found++;
          matched.add(i);
        }
      }
      findings.forEach((f, i) => {
        if (matched.has(i)) return;
        stat(f.type).falsePositives++;
        if (entry.expected.length === 0) lookAlikeHits.push(`${entry.id}: ${f.type}`);
      });
    }

    const rows = [...stats.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([type, s]) => ({
        type,
        kind: isSecretType(type) ? 'secret' : 'personal',
        planted: s.planted,
        found: s.found,
        false_pos: s.falsePositives,
        recall: s.planted ? +((100 * s.found) / s.planted).toFixed(1) : null,
        precision:
          s.found + s.falsePositives ? +((100 * s.found) / (s.found + s.falsePositives)).toFixed(1) : null,
      }));
    console.log(
      `redaction corpus: ${corpus.length} samples (${corpus.filter((e) => e.expected.length === 0).length} look-alikes)`,
    );
    console.table(rows);

    const recall = (kind: string): number => {
      const r = rows.filter((x) => x.kind === kind);
      return r.reduce((a, x) => a + x.found, 0) / r.reduce((a, x) => a + x.planted, 0);
    };
    expect(recall('secret')).toBeGreaterThanOrEqual(0.99);
    expect(recall('personal')).toBeGreaterThanOrEqual(0.95);
    for (const row of rows)
      if (row.planted > 0)
        expect(row.recall, row.type).toBeGreaterThanOrEqual(row.kind === 'secret' ? 99 : 95);
    expect(lookAlikeHits).toEqual([]);
  });

  it('redacts the streamed samples in the assembled response, whichever chunk the secret spans', () => {
    const redactor = createRedactor();
    for (const entry of corpus.filter((e) => e.context === 'stream')) {
      const e = blankEvent({ id: entry.id, timestamp: '2026-01-01T00:00:00.000Z', source: 'gateway' });
      redactor.apply(e, { prompt: null, response: entry.chunks!.join('') });
      for (const exp of entry.expected) expect(e.response, entry.id).not.toContain(exp.value);
    }
  });
});
