import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/doctor/doctor-report.js';
import { doctorReportToJson, formatDoctorReport } from '../../src/doctor/format-doctor-report.js';

const report: DoctorReport = {
  healthy: false,
  upstreamUrl: 'https://api.openai.com/v1',
  provider: 'openai',
  keyPrefix: 'sk-proj-',
  findings: [
    { id: 'key.present', level: 'ok', title: 'API key is set', detail: '164 characters', fix: null },
    {
      id: 'http.models',
      level: 'fail',
      title: 'The key was rejected (401)',
      detail: 'GET … → 401',
      fix: 'Create a new key.',
    },
    { id: 'url.path', level: 'warn', title: 'No /v1', detail: 'd', fix: 'f' },
  ],
};

describe('formatDoctorReport', () => {
  it('aligns level, id and title columns and indents detail and fix under the title', () => {
    const text = formatDoctorReport(report);
    const lines = text.split('\n');
    expect(lines[0]).toBe('tollgate doctor: https://api.openai.com/v1 (provider openai, key sk-proj-…)');
    expect(text).toContain('  ok    key.present  API key is set\n');
    expect(text).toContain(
      '  FAIL  http.models  The key was rejected (401)\n                     GET … → 401\n                     fix: Create a new key.\n',
    );
    expect(text).toContain('  warn  url.path     No /v1\n');
    expect(text.trimEnd().endsWith('NOT healthy (1 failure, 1 warning)')).toBe(true);
    expect(text).not.toContain('\x1b[');
  });

  it('colours only when told the output is a terminal', () => {
    expect(formatDoctorReport(report, { color: true })).toContain('\x1b[1;31mFAIL');
    expect(formatDoctorReport({ ...report, healthy: true, findings: [report.findings[0]!] })).toContain(
      'healthy (0 failures, 0 warnings)',
    );
  });

  it('JSON form round-trips', () => {
    expect(JSON.parse(doctorReportToJson(report))).toEqual(report);
  });
});
