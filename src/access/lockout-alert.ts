import { newAlert, type Alert } from '../alerting/alert.js';

/**
 * The alert raised when a lockout starts (evidence: the subject, the threshold and until when;
 * never a key). `subject` is the lockout's `ip:<address>` or `key:<fingerprint>`.
 */
export function lockoutAlert(
  subject: string,
  untilMs: number,
  lockout: { max_failures: number; window_ms: number },
  nowMs: number,
): Alert {
  const isIp = subject.startsWith('ip:');
  const value = subject.slice(isIp ? 3 : 4);
  return newAlert(
    {
      rule_id: 'auth.lockout',
      severity: 'HIGH',
      subject: { kind: isIp ? 'ip' : 'api_key', value },
      title: `Locked out ${isIp ? 'IP' : 'key'} ${value} after repeated authentication failures`,
      description: `Requests from this ${isIp ? 'address' : 'key'} are refused with TG_ERR_AUTH_LOCKED_OUT until ${new Date(untilMs).toISOString()}.`,
      figures: {
        observed: lockout.max_failures,
        baseline: null,
        threshold: lockout.max_failures,
        window_ms: lockout.window_ms,
        unit: 'failures',
      },
    },
    nowMs,
  );
}
