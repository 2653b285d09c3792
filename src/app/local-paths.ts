import { join, resolve } from 'node:path';
import { dataDir, type TollgateConfig } from '../config/config.js';
import { anchorFilePath, defaultAnchorDir } from '../integrity/anchors.js';
import { isPostgresUrl } from '../store/postgres-url.js';
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

/**
 * The local files that hold events and secrets, for the 0700/0600 check (`serve` warns at start,
 * `doctor` reports): the data folder, the SQLite store with its WAL and SHM, the fingerprint secret,
 * the admin token and the signing key when they sit in the data folder.
 */
export function auditDataPaths(config: TollgateConfig): string[] {
  const p = localPaths(config);
  const sqlite =
    config.db === ':memory:' || isPostgresUrl(config.db)
      ? []
      : [config.db, `${config.db}-wal`, `${config.db}-shm`];
  return [p.dir, ...sqlite, p.fingerprint, join(p.dir, 'admin.token'), p.signingKey];
}
