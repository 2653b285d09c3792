import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localPaths } from '../../src/app/local-paths.js';
import { loadConfig } from '../../src/config/config.js';
import { adminActionEvent } from '../../src/core/admin-action-event.js';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { ManualClock } from '../../src/core/clock.js';
import { CheckpointWriter } from '../../src/integrity/checkpoint-writer.js';
import { createChainer } from '../../src/integrity/hash-chain.js';
import { loadOrCreateSigningKey, type SigningKey } from '../../src/integrity/signing-key.js';
import { openEventStore } from '../../src/store/open-event-store.js';
import { gatewayWitness } from './anchored-site.js';
import { sampleEvent } from './sample-events.js';
import { formatHoldMessage, HOLD_CREATE_ACTION } from '../../src/retention/hold-record.js';

/** A store as an auditor would find it: traffic, admin and dashboard events, checkpoints, anchors. */
export interface EvidenceSite {
  root: string;
  db: string;
  keyPath: string;
  anchorFile: string;
  key: SigningKey;
  /** Every event written, in seq order. */
  events: AuditEvent[];
}

/**
 * Chain `gw-1` in `<root>/data/tollgate.db`, starting `startMs`: 75 events, every 5th an admin
 * or dashboard action (`admin:keys.create`, `admin:ui.events`, `admin:login`), checkpoints every
 * 10 events anchored in `<root>/tollgate-anchors/` (the gateway's witnesses), the last one at 70;
 * events 71..75 come after it (a tail no checkpoint covers yet). Event 33 places a legal hold on
 * `user-7`. One event per minute.
 */
export async function evidenceSite(startMs: number): Promise<EvidenceSite> {
  const root = mkdtempSync(join(tmpdir(), 'tg-evidence-'));
  mkdirSync(join(root, 'data'));
  const db = join(root, 'data', 'tollgate.db');
  const paths = localPaths(loadConfig({ file: null, overrides: { db } }));
  const anchorFile = paths.anchorFile!;
  const key = loadOrCreateSigningKey({ path: paths.signingKey, name: 'tollgate-gw-1' });
  const { store, checkpoints } = await openEventStore(db);
  const clock = new ManualClock(startMs);
  const chainer = createChainer({ chainId: 'gw-1' });
  const writer = CheckpointWriter.forNewChain({
    chainId: 'gw-1',
    key,
    store: checkpoints,
    clock,
    everyEvents: 10,
    everyMs: 3_600_000_000,
    witnesses: [gatewayWitness(anchorFile, key, startMs)],
  });
  const actions = ['admin:keys.create', 'admin:ui.events', 'admin:login'];
  const events: AuditEvent[] = [];
  for (let i = 1; i <= 75; i++) {
    const e =
      i % 5 === 0
        ? adminActionEvent({ action: actions[i % 3]!, actor: 'ops', subject: `vk_${i}`, ok: true }, clock)
        : i === 33
          ? holdEvent(clock)
          : sampleEvent(i, startMs);
    e.timestamp = new Date(clock.now()).toISOString();
    chainer.link(e);
    await store.append([e]);
    if (i <= 70) writer.recordWritten([e]);
    events.push(e);
    clock.advance(60_000);
  }
  await writer.close();
  await store.close();
  return { root, db, keyPath: paths.signingKey, anchorFile, key, events };
}

/** A legal hold record as `tollgate hold create --user user-7` chains it. */
function holdEvent(clock: ManualClock): AuditEvent {
  const e = adminActionEvent({ action: HOLD_CREATE_ACTION, actor: 'cli', subject: null, ok: true }, clock);
  e.user_id = 'user-7';
  e.error_message = formatHoldMessage({
    id: 'hold_0123456789',
    user: 'user-7',
    session: null,
    key: null,
    since: null,
    until: null,
    reason: 'case 2026-114',
  });
  return e;
}
