/**
 * The demo's retention and legal hold: a hold on one person, a dry-run prune as if the demo's
 * traffic were past retention (nothing is deleted: the rest of the demo reads it), and the erase
 * of the held person refused, naming the hold.
 */
import type { RunningTollgate } from '../../app/start-tollgate.js';
import { systemClock } from '../../core/clock.js';
import { TollgateError } from '../../core/errors.js';
import { describeHoldScope } from '../../retention/hold-record.js';
import { assertUserNotHeld, createHold } from '../../retention/holds.js';
import { pruneStore } from '../../retention/prune.js';
import { CLI_ADMIN_CHAIN } from '../cli-admin-action.js';
import { formatPruneResult } from '../commands/prune.js';

export async function demoRetention(tg: RunningTollgate, nowMs: number): Promise<string[]> {
  const lines: string[] = [];
  // A signed checkpoint over the demo's traffic (the gateway makes one every 1,000 events or
  // minute), then the hold, recorded in the gateway's chain as an admin action would be.
  await tg.checkpointWriter.checkpointNow();
  const hold = await createHold(
    tg.store,
    CLI_ADMIN_CHAIN,
    { user: 'bob', session: null, key: null, since: null, until: null },
    'demo case 1: keep everything of bob',
    'demo',
    systemClock,
    (e) => tg.pipeline.commitEvent(e),
  );
  lines.push(`$ tollgate hold create --user bob --reason "demo case 1: keep everything of bob"`);
  lines.push(`legal hold ${hold.id} placed on ${describeHoldScope(hold)}`);
  // As if a day had passed with retention.events 1h: every demo event is past retention.
  const result = await pruneStore({
    events: tg.store,
    checkpoints: tg.checkpoints,
    signer: tg.signingKey,
    keys: [tg.signingKey.verifier()],
    policy: { eventsMs: 3_600_000, contentMs: null, batch: 10_000 },
    clock: { now: () => nowMs + 86_400_000, monotonic: () => systemClock.monotonic() },
    record: () => Promise.reject(new Error('dry run')),
    dryRun: true,
  });
  lines.push('');
  lines.push('$ tollgate prune --dry-run --events 1h      (a day later)');
  lines.push(...formatPruneResult(result).split('\n'));
  lines.push('');
  lines.push('$ tollgate erase --user bob');
  try {
    await assertUserNotHeld(tg.store, 'bob');
    lines.push('(not refused: unexpected)');
  } catch (err) {
    if (!(err instanceof TollgateError)) throw err;
    lines.push(`tollgate: ${err.message} (hold: ${hold.id}, reason: ${hold.reason})`);
  }
  return lines;
}
