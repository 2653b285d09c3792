import { describe, expect, it } from 'vitest';
import { formatAlertsJsonLines, formatAlertsTable } from './alert-format.js';
import { sampleAlert } from './alert-store.contract.js';

describe('alert formatters', () => {
  it('aligns the table columns', () => {
    const text = formatAlertsTable([
      sampleAlert({ count: 12 }),
      sampleAlert({ rule_id: 'volume.spike', severity: 'MEDIUM' }),
    ]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^LAST SEEN\s+SEVERITY\s+RULE\s+SUBJECT\s+COUNT/);
    const col = lines[0]!.indexOf('RULE');
    expect(lines[1]!.slice(col)).toMatch(/^auth\.repeated-failures/);
    expect(lines[2]!.slice(col)).toMatch(/^volume\.spike/);
    expect(formatAlertsTable([])).toBe('no alerts');
  });

  it('prints one JSON object per line', () => {
    const out = formatAlertsJsonLines([sampleAlert(), sampleAlert()]).split('\n');
    expect(out.map((l) => (JSON.parse(l) as { rule_id: string }).rule_id)).toEqual([
      'auth.repeated-failures',
      'auth.repeated-failures',
    ]);
  });
});
