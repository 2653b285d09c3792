import { describe, expect, it } from 'vitest';
import { blankEvent } from '../core/audit-event.js';
import { ADMIN_METHOD } from '../core/admin-action-event.js';
import {
  HOLD_CREATE_ACTION,
  HOLD_RELEASE_ACTION,
  formatHoldMessage,
  formatHoldReleaseMessage,
  heldBy,
  holdsFrom,
} from './hold-record.js';

function admin(action: string, message: string, ts: string) {
  const e = blankEvent({ id: `e-${ts}`, timestamp: ts, source: 'gateway' });
  e.http_method = ADMIN_METHOD;
  e.endpoint = action;
  e.error_message = message;
  e.request_source = 'cli';
  return e;
}

describe('hold records', () => {
  const hold = {
    id: 'hold_0123456789',
    user: 'alice@example.com',
    session: null,
    key: null,
    since: '2026-01-01T00:00:00.000Z',
    until: null,
    reason: 'case 42: litigation, do not delete',
  };

  it('reads holds and their releases back from the trail', () => {
    const events = [
      admin(HOLD_CREATE_ACTION, formatHoldMessage(hold), '2026-02-01T00:00:00.000Z'),
      admin(
        HOLD_CREATE_ACTION,
        formatHoldMessage({ ...hold, id: 'hold_aaaaaaaaaa', user: null, session: 's 1' }),
        '2026-02-02T00:00:00.000Z',
      ),
      admin(
        HOLD_RELEASE_ACTION,
        formatHoldReleaseMessage('hold_aaaaaaaaaa', 'case closed'),
        '2026-03-01T00:00:00.000Z',
      ),
    ];
    const holds = holdsFrom(events.reverse());
    expect(holds).toHaveLength(2);
    expect(holds[0]).toMatchObject({ ...hold, released_at: null, created_by: 'cli' });
    expect(holds[1]).toMatchObject({
      session: 's 1',
      released_at: '2026-03-01T00:00:00.000Z',
      release_reason: 'case closed',
    });
  });

  it('covers events by every given condition', () => {
    const holds = holdsFrom([admin(HOLD_CREATE_ACTION, formatHoldMessage(hold), '2026-02-01T00:00:00.000Z')]);
    const ev = (user: string | null, ts: string) => {
      const e = blankEvent({ id: ts, timestamp: ts, source: 'gateway' });
      e.user_id = user;
      return e;
    };
    expect(heldBy(holds, ev('alice@example.com', '2026-01-05T00:00:00.000Z'))?.id).toBe(hold.id);
    expect(heldBy(holds, ev('alice@example.com', '2025-12-31T23:59:59.000Z'))).toBeNull();
    expect(heldBy(holds, ev('bob', '2026-01-05T00:00:00.000Z'))).toBeNull();
  });
});
