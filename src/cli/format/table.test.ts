import { describe, expect, it } from 'vitest';
import { renderTable } from './table.js';

describe('renderTable', () => {
  it('aligns columns and never lets data break a line', () => {
    const out = renderTable(
      [
        { a: 'x', n: 1 },
        { a: 'evil\r\n2026-01-01 FAKE LINE\u001b[31m', n: 12345 },
      ],
      [
        { header: 'name', value: (r) => r.a },
        { header: 'n', value: (r) => r.n, align: 'right' },
      ],
    );
    const lines = out.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toContain('evil\\r\\n2026-01-01 FAKE LINE\\x1b[31m');
    expect(lines[2]!.endsWith('    1')).toBe(true);
  });
});
