import { extractApiKey } from '../access/authenticate.js';
import { keyFingerprint } from '../access/key-fingerprint.js';
import { keyPrefix } from '../access/key-prefix.js';
import type { Admission, AdmissionContext, RequestPolicy } from './request-policy.js';

/**
 * Passthrough mode: the client's own provider key goes upstream untouched; the event keeps only
 * its keyed fingerprint and prefix. The provider decides; its 401/403 becomes AUTH_FAILED.
 */
export class PassthroughPolicy implements RequestPolicy {
  /** Recent keys' fingerprints: clients reuse a handful of keys, and the HMAC is per request otherwise. */
  private readonly fingerprints = new Map<string, string>();

  constructor(private readonly fingerprintSecret: Buffer) {}

  private fingerprint(key: string): string {
    let fp = this.fingerprints.get(key);
    if (fp === undefined) {
      fp = keyFingerprint(this.fingerprintSecret, key);
      if (this.fingerprints.size >= 1024) this.fingerprints.clear(); // bounded; a refill is cheap
      this.fingerprints.set(key, fp);
    }
    return fp;
  }

  admit(ctx: AdmissionContext): Admission {
    const { method, key } = extractApiKey(ctx.headers);
    return {
      auth: {
        auth_method: method,
        // The provider decides; the gateway fills SUCCESS/FAILED from its answer.
        auth_result: key === null ? 'MISSING' : null,
        api_key_id: key === null ? null : this.fingerprint(key),
        api_key_prefix: key === null ? null : keyPrefix(key),
        virtual_key_id: null,
      },
      refusal: null,
    };
  }
}
