import type { AccountedGap, Damage, VerifyReport } from './verify-report.js';

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

/** One line naming an accounted gap: how many events, why, when, and which seqs. */
export function formatAccountedGap(g: AccountedGap): string {
  const seqs = g.first_seq === g.last_seq ? `seq ${g.first_seq}` : `seqs ${g.first_seq}..${g.last_seq}`;
  // A crash record names the seqs the process had reserved: an upper bound on what it lost.
  if (g.reason === 'crash')
    return `accounted gap: up to ${g.count} event${g.count === 1 ? '' : 's'} lost in a crash (answered after ${g.at}, not stored) — ${seqs}, gap record at seq ${g.record_seq}`;
  return `accounted gap: ${g.count} event${g.count === 1 ? '' : 's'} not stored (${g.reason}) at ${g.at} — ${seqs}, gap record at seq ${g.record_seq}`;
}

/** The human form of `tollgate verify` (the `--json` form is the report itself). */
export function formatVerifyReport(report: VerifyReport): string {
  const lines: string[] = [];
  for (const c of report.chains) {
    if (c.damage === null) {
      const cp = c.latest_checkpoint
        ? `, last checkpoint at ${c.latest_checkpoint.tree_size}${c.latest_checkpoint.time ? ` (${c.latest_checkpoint.time})` : ''}`
        : ', no checkpoint yet';
      // tree_size counts lost positions too; the event count is what is stored.
      const stored = c.tree_size - c.accounted_gaps.reduce((n, g) => n + g.count, 0);
      const events =
        c.accounted_gaps.length > 0 ? `${stored} events stored of ${c.tree_size}` : `${c.tree_size} events`;
      lines.push(
        `chain ${c.chain_id}: intact${c.accounted_gaps.length > 0 ? ' with accounted gaps' : ''} — ${events}, ${c.checkpoints_checked} checkpoints${cp}, root ${c.root_hash}`,
      );
    } else {
      lines.push(`chain ${c.chain_id}: DAMAGED — ${formatDamage(c.damage)}`);
      // Every later damage too: one broken event must not hide a tampering further on.
      for (const d of c.damages.slice(1)) lines.push(`  also ${formatDamage(d)}`);
    }
    for (const g of c.accounted_gaps) lines.push(`  warning: ${formatAccountedGap(g)}`);
    if (c.since_checkpoint) {
      const at = c.since_checkpoint;
      lines.push(
        `  since checkpoint: ${c.events_checked} event(s) after the verified checkpoint at tree size ${at.tree_size}${at.time ? ` (${at.time})` : ''} checked; events 1..${at.tree_size} were not re-checked (out of scope of --since-checkpoint: verify without it checks them)`,
      );
    } else if (c.since_checkpoint_unusable)
      lines.push(`  since checkpoint: verified the whole chain: ${c.since_checkpoint_unusable}`);
    if (c.from_unused) lines.push(`  from: ${c.from_unused}`);
  }
  const damaged = report.chains.filter((c) => c.damage !== null).length;
  const crash = report.chains.some((c) => c.accounted_gaps.some((g) => g.reason === 'crash'));
  const gaps =
    report.accounted_gaps > 0
      ? `${report.accounted_gaps} accounted gap(s): ${crash ? 'up to ' : ''}${report.events_not_stored} event(s) not stored${report.strict ? ' (--strict: counted as a failure)' : ''}`
      : '';
  lines.push(
    report.ok
      ? `verify: OK — ${report.chains.length} chain(s), ${report.events_checked} events and ${report.checkpoints_checked} checkpoints checked in ${report.duration_ms} ms${gaps ? `; ${gaps}` : ''}`
      : damaged > 0
        ? `verify: FAILED — ${damaged} of ${report.chains.length} chain(s) damaged, ${report.damage_count} damage(s) in all; first: ${report.first_damage ? formatDamage(report.first_damage) : 'unknown'}${gaps ? `; ${gaps}` : ''}`
        : `verify: FAILED — ${gaps}`,
  );
  return lines.join('\n');
}
