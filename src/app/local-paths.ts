import { join } from 'node:path';
import { dataDir, type TollgateConfig } from '../config/config.js';

/** Paths of the local secrets and files, all in the data folder. */
export function localPaths(config: TollgateConfig): {
  dir: string;
  fingerprint: string;
  instanceId: string;
  signingKey: string;
} {
  const dir = dataDir(config);
  return {
    dir,
    fingerprint: join(dir, 'fingerprint.key'),
    instanceId: join(dir, 'instance-id'),
    signingKey: join(dir, 'checkpoint-signing.key'),
  };
}
