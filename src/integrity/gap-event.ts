import type { AuditEvent } from '../core/audit-event.js';
import { adminActionEvent } from '../core/admin-action-event.js';
import type { Clock } from '../core/clock.js';
import {
  GAP_REASON_CODE,
  GAP_RECORD_ACTION,
  GAP_RECORD_ACTOR,
  formatGapMessage,
  type GapRange,
} from './gap-record.js';

/**
 * The chained gap record of events the writer could neither store nor spool (docs/integrity.md
 * "Accounted gaps"): an administrative event of the writer whose `error_message` names the missing
 * range and the hash of its last event, so `tollgate verify` can tell an accounted gap from a
 * deletion. The caller chains it (the pipeline's `recordEvent`), in the chain of the lost events.
 */
export function writerGapEvent(
  gap: GapRange,
  clock: Clock,
  source: AuditEvent['source'] = 'gateway',
): AuditEvent {
  const e = adminActionEvent(
    {
      action: GAP_RECORD_ACTION,
      actor: GAP_RECORD_ACTOR,
      subject: null,
      ok: false,
      errorCode: GAP_REASON_CODE[gap.reason],
    },
    clock,
    source,
  );
  e.status = 'SERVER_ERROR';
  e.auth_method = null;
  e.auth_result = null;
  e.error_message = formatGapMessage(gap);
  return e;
}
