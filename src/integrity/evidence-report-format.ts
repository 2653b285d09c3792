/** `verify --evidence` for people: one line per check, every problem with where it is, the warnings, a summary. */
import type { EvidenceReport } from './evidence-check.js';

/** Lines for people: one per check, each problem under it, warnings, and a summary. */
export function formatEvidenceReport(r: EvidenceReport): string {
  const lines: string[] = [];
  lines.push(
    `evidence bundle ${r.file}${r.store_id ? ` — store ${r.store_id}` : ''}${r.created_at ? `, exported ${r.created_at}` : ''}${r.window ? `, window ${r.window.since} → ${r.window.until}` : ''}`,
  );
  for (const c of r.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  for (const p of r.problems) lines.push(`  FAIL ${p.where}: ${p.what}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  lines.push(
    r.ok
      ? `verify --evidence: OK — ${r.checks.length} checks passed${trustNote(r)}`
      : `verify --evidence: FAILED — ${r.problems.length} problem(s); first: ${r.problems[0]!.where}: ${r.problems[0]!.what}`,
  );
  return lines.join('\n');
}

/**
 * What an OK rests on when the auditor gave no `--keys`: the bundle's own keys prove it is
 * consistent, not who made it (a forger who rewrote everything can pin and sign with a key of theirs).
 */
function trustNote(r: EvidenceReport): string {
  if (r.keys_from === 'flag') return ', against the keys you gave (--keys)';
  return `, against the keys the bundle carries (${r.keys_from}): give --keys FILE to check who signed it`;
}
