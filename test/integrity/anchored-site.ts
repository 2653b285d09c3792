import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localPaths } from '../../src/app/local-paths.js';
import { loadConfig } from '../../src/config/config.js';
import { ManualClock } from '../../src/core/clock.js';
import { buildCheckpointWitnesses } from '../../src/integrity/checkpoint-witnesses.js';
import { loadOrCreateSigningKey, type SigningKey } from '../../src/integrity/signing-key.js';
import type { Witness } from '../../src/integrity/witness.js';
import { openEventStore } from '../../src/store/open-event-store.js';
import { populate } from './populate.js';

/** A SQLite store in `<root>/data/` whose checkpoints are anchored in `<root>/tollgate-anchors/`. */
export interface AnchoredSite {
  root: string;
  db: string;
  keyPath: string;
  anchorFile: string;
  key: SigningKey;
}

const silent = { info: () => undefined, error: () => undefined };

/** All the witnesses the gateway would use, as one (populate takes one). */
export function gatewayWitness(anchorFile: string, key: SigningKey, nowMs: number): Witness {
  const ws = buildCheckpointWitnesses({
    anchorFile,
    witnessFile: null,
    witnessUrl: null,
    key,
    nowMs,
    log: silent,
  });
  return {
    name: 'all',
    submit: async (cp) => {
      for (const w of ws) await w.submit(cp);
    },
  };
}

/**
 * 60 events of chain `gw-1` with a checkpoint every 10, signed with the data folder's key and
 * anchored as the gateway anchors them (the default anchor folder, beside the data folder). The
 * caller removes `root`.
 */
export async function anchoredSite(startMs = Date.UTC(2026, 0, 1)): Promise<AnchoredSite> {
  const root = mkdtempSync(join(tmpdir(), 'tg-anchored-'));
  mkdirSync(join(root, 'data'));
  const db = join(root, 'data', 'tollgate.db');
  const paths = localPaths(loadConfig({ file: null, overrides: { db } }));
  const anchorFile = paths.anchorFile!;
  const key = loadOrCreateSigningKey({ path: paths.signingKey, name: 'tollgate-gw-1' });
  const { store, checkpoints } = await openEventStore(db);
  await populate({
    clock: new ManualClock(startMs),
    store,
    checkpoints,
    key,
    chainId: 'gw-1',
    n: 60,
    everyEvents: 10,
    batch: 10,
    witness: gatewayWitness(anchorFile, key, startMs),
  });
  await store.close();
  return { root, db, keyPath: paths.signingKey, anchorFile, key };
}
