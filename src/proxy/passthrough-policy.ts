import { extractApiKey } from '../access/authenticate.js';
import { KeyFingerprinter } from '../access/key-fingerprint.js';
import { hashVirtualKey } from '../access/virtual-keys.js';
import { keyPrefix } from '../access/key-prefix.js';
import type { Admission, AdmissionContext, RequestPolicy } from './request-policy.js';

/**
 * Passthrough mode: the client's own provider key goes upstream untouched; the event keeps only
 * its keyed fingerprint and prefix. The provider decides; its 401/403 becomes AUTH_FAILED.
 */
export class PassthroughPolicy implements RequestPolicy {
  private readonly fingerprinter: KeyFingerprinter;

  constructor(fingerprintSecret: Buffer) {
    this.fingerprinter = new KeyFingerprinter(fingerprintSecret);
  }

  admit(ctx: AdmissionContext): Admission {
    const { method, key } = extractApiKey(ctx.headers, ctx.query);
    return {
      auth: {
        auth_method: method,
        // The provider decides; the gateway fills SUCCESS/FAILED from its answer.
        auth_result: key === null ? 'MISSING' : null,
        // Cached by the key's SHA-256, so no raw key outlives the request in memory.
        api_key_id: key === null ? null : this.fingerprinter.fingerprint(key, hashVirtualKey(key)),
        api_key_prefix: key === null ? null : keyPrefix(key),
        virtual_key_id: null,
      },
      refusal: null,
    };
  }
}
