import type { Damage, VerifyReport } from './verify.js';

const KIND_TEXT: Record<Damage['kind'], string> = {
  modified: 'MODIFIED',
  deleted: 'DELETED',
  inserted: 'INSERTED',
  reordered: 'REORDERED',
  truncated: 'TRUNCATED',
  checkpoint_forged: 'CHECKPOINT FORGED',
  checkpoint_missing: 'CHECKPOINT MISSING',
};

/** One line naming a damage: kind, first bad event and detail. */
export function formatDamage(d: Damage): string {
  const where: string[] = [];
  if (d.seq !== null) where.push(`seq ${d.seq}`);
  if (d.event_id !== null) where.push(`event ${d.event_id}`);
  if (d.checkpoint_size !== null) where.push(`checkpoint at tree size ${d.checkpoint_size}`);
  return `${KIND_TEXT[d.kind]}${where.length ? ` at ${where.join(', ')}` : ''}: ${d.detail}`;
}

/** The human form of `tollgate verify` (the `--json` form is the report itself). */
export function formatVerifyReport(report: VerifyReport): string {
  const lines: string[] = [];
  for (const c of report.chains) {
    if (c.ok) {
      const cp = c.latest_checkpoint ? `, last checkpoint at ${c.latest_checkpoint.tree_size}${c.latest_checkpoint.time ? ` (${c.latest_checkpoint.time})` : ''}` : ', no checkpoint yet';
      lines.push(`chain ${c.chain_id}: intact — ${c.tree_size} events, ${c.checkpoints_checked} checkpoints${cp}, root ${c.root_hash}`);
    } else if (c.damage) {
      lines.push(`chain ${c.chain_id}: DAMAGED — ${formatDamage(c.damage)}`);
    }
  }
  const bad = report.chains.filter((c) => !c.ok).length;
  lines.push(
    report.ok
      ? `verify: OK — ${report.chains.length} chain(s), ${report.events_checked} events and ${report.checkpoints_checked} checkpoints checked in ${report.duration_ms} ms`
      : `verify: FAILED — ${bad} of ${report.chains.length} chain(s) damaged; first: ${report.first_damage ? formatDamage(report.first_damage) : 'unknown'}`,
  );
  return lines.join('\n');
}
