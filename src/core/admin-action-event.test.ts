import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { adminActionEvent } from './admin-action-event.js';
import { isAuthFailure } from './event-outcome.js';

const clock = new ManualClock(Date.UTC(2026, 11, 7));
const outcome = (ok: boolean, errorCode: string | null) => {
  const e = adminActionEvent(
    { action: 'admin:keys.update', actor: 'admin-api', subject: 'vk_1', ok, errorCode },
    clock,
  );
  return { status: e.status, auth_result: e.auth_result, auth_failure: isAuthFailure(e) };
};

describe('adminActionEvent outcome', () => {
  it('counts only a refused credential as an auth failure', () => {
    expect(outcome(true, null)).toEqual({ status: 'SUCCESS', auth_result: 'SUCCESS', auth_failure: false });
    expect(outcome(false, 'TG_ERR_ADMIN_UNAUTHORIZED')).toEqual({
      status: 'AUTH_FAILED',
      auth_result: 'FAILED',
      auth_failure: true,
    });
    // A session request without its CSRF token: a forged form, refused as such.
    expect(outcome(false, 'TG_ERR_ADMIN_CSRF')).toEqual({
      status: 'CLIENT_ERROR',
      auth_result: 'FAILED',
      auth_failure: true,
    });
  });

  it('records an authenticated admin’s bad input as a client error and a failure on Tollgate’s side as a server error', () => {
    for (const code of [
      'TG_ERR_ADMIN_BAD_REQUEST',
      'TG_ERR_ADMIN_NOT_FOUND',
      'TG_ERR_ADMIN_CONFLICT',
      'not_found',
      null,
    ])
      expect(outcome(false, code)).toEqual({
        status: 'CLIENT_ERROR',
        auth_result: 'SUCCESS',
        auth_failure: false,
      });
    for (const code of ['TG_ERR_STORE_UNAVAILABLE', 'TG_ERR_ADMIN_INTERNAL', 'TG_ERR_INTEGRITY_BROKEN'])
      expect(outcome(false, code)).toEqual({
        status: 'SERVER_ERROR',
        auth_result: 'SUCCESS',
        auth_failure: false,
      });
  });
});
