import { join, resolve } from 'node:path';
import { dataDir, type TollgateConfig } from '../config/config.js';
import { anchorFilePath, defaultAnchorDir } from '../integrity/anchors.js';
import { storeIdentity } from './chain-state-files.js';

/** Paths of the local secrets and files, all in the data folder, and of the anchors, outside it. */
export function localPaths(config: TollgateConfig): {
  dir: string;
  fingerprint: string;
  instanceId: string;
  signingKey: string;
  /** This store's anchor file (anchors.ts), or null when anchors are off. */
  anchorFile: string | null;
} {
  const dir = dataDir(config);
  const anchorDir = config.checkpoints.anchor_dir
    ? resolve(config.checkpoints.anchor_dir)
    : defaultAnchorDir(dir);
  return {
    dir,
    fingerprint: join(dir, 'fingerprint.key'),
    instanceId: join(dir, 'instance-id'),
    signingKey: join(dir, 'checkpoint-signing.key'),
    anchorFile:
      config.checkpoints.anchors && config.db !== ':memory:'
        ? anchorFilePath(anchorDir, storeIdentity(config.db))
        : null,
  };
}
