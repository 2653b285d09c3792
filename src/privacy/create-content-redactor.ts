import type { Clock } from '../core/clock.js';
import { TollgateError } from '../core/errors.js';
import type { ContentMode } from '../core/audit-event.js';
import type { CountryCode } from 'libphonenumber-js/max';
import type { ContentPolicyOverride, DetectorSwitches } from '../redaction/content-policy.js';
import { createRedactor, type TollgateRedactor } from '../redaction/redactor.js';
import { createContentCipher } from './content-cipher.js';
import type { DataKeyStore } from './data-key-store.js';
import { loadMasterKey } from './master-key.js';

/** The `content` section of the config (tollgate.config.yaml). */
export interface ContentConfig {
  mode: ContentMode;
  detectors: DetectorSwitches;
  /** Region for phone numbers written without +country code (ISO 3166-1 alpha-2). */
  phone_default_country: string;
  per_feature: Record<string, ContentPolicyOverride>;
  per_key: Record<string, ContentPolicyOverride>;
  /** A file holding the 32-byte master key (base64 or hex), or the key itself (base64). */
  master_key_file: string | null;
  master_key: string | null;
}

/**
 * The redact stage from config. With a master key, content can be encrypted per person (the data
 * keys live in the same store as the events, opened only then); `encrypted` mode without one
 * refuses to start (TG_ERR_CRYPTO_KEY_MISSING) rather than store content another way.
 */
export async function createContentRedactor(
  config: ContentConfig,
  deps: { dataKeys: () => Promise<DataKeyStore>; clock: Clock },
): Promise<TollgateRedactor> {
  const policy = {
    mode: config.mode,
    detectors: config.detectors,
    // The config schema checked the shape; the phone library knows the regions (an unknown one finds no numbers).
    phoneDefaultCountry: config.phone_default_country as CountryCode,
    perFeature: config.per_feature,
    perKey: config.per_key,
  };
  const source = config.master_key_file
    ? { file: config.master_key_file }
    : config.master_key
      ? { base64: config.master_key }
      : null;
  if (!source) {
    if (config.mode === 'encrypted')
      throw new TollgateError('TG_ERR_CRYPTO_KEY_MISSING', {
        setting: 'content.master_key_file or TOLLGATE_MASTER_KEY',
      });
    return createRedactor(policy);
  }
  const masterKey = loadMasterKey(source);
  return createRedactor(policy, {
    encryptor: createContentCipher({ masterKey, store: await deps.dataKeys(), clock: deps.clock }),
  });
}
