import { isTollgateError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { Lifetime } from '../core/lifetime.js';
import type { TollgateConfig } from '../config/config.js';
import type { Integrity } from '../integrity/create-integrity.js';
import type { AuditTrail } from '../pipeline/audit-trail.js';
import { pruneStore } from '../retention/prune.js';
import { PruneScheduler } from '../retention/prune-scheduler.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import type { EventStore } from '../store/event-store.js';
import type { Logger } from './logger.js';

/**
 * The gateway's scheduled prune of its own chain (docs/privacy.md "Retention"), when a retention
 * is configured: the records go into the gateway's chain, stored before any row is deleted.
 */
export function gatewayRetention(
  config: TollgateConfig,
  deps: {
    store: EventStore;
    checkpoints: CheckpointStore;
    integrity: Integrity;
    trail: AuditTrail;
    clock: Clock;
    instanceId: string;
    log: Logger;
  },
  life: Lifetime,
): PruneScheduler | null {
  const r = config.retention;
  if (r.events === null && r.content === null) return null;
  const scheduler = new PruneScheduler({
    everyMs: r.prune_every_ms,
    run: () =>
      pruneStore({
        events: deps.store,
        checkpoints: deps.checkpoints,
        signer: deps.integrity.signingKey,
        keys: deps.integrity.verifiers(),
        policy: { eventsMs: r.events, contentMs: r.content, batch: r.prune_batch },
        clock: deps.clock,
        record: (e) => deps.trail.pipeline.commitEvent(e),
        chains: [deps.instanceId],
        holder: deps.instanceId,
      }),
    onResult: (res) => {
      if (res.deleted > 0 || res.content_pruned > 0)
        deps.log.info(
          { deleted: res.deleted, content_pruned: res.content_pruned, events_cutoff: res.events_cutoff },
          'retention: pruned',
        );
      for (const s of res.skipped)
        deps.log.warn({ chain_id: s.chain_id, why: s.why }, 'retention: chain not pruned');
    },
    onError: (err) => {
      if (isTollgateError(err) && err.code === 'TG_ERR_RETENTION_BUSY')
        return deps.log.info(
          { held_by: err.detail },
          'retention: another prune is running; trying at the next tick',
        );
      deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'retention: prune failed');
    },
  });
  life.defer('retention', () => scheduler.close());
  scheduler.start();
  return scheduler;
}
