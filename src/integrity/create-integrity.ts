import type { Clock } from '../core/clock.js';
import type { Lifetime } from '../core/lifetime.js';
import type { Log } from '../core/log.js';
import type { EventStore } from '../store/event-store.js';
import type { CheckpointStore } from '../store/checkpoint-store.js';
import { CheckpointWriter } from './checkpoint-writer.js';
import type { NoteVerifier } from './signed-note.js';
import { readKeyring, type SigningKey } from './signing-key.js';
import { loadConfiguredSigningKey, type SigningKeySourceKind } from './signing-key-source.js';
import { buildCheckpointWitnesses } from './checkpoint-witnesses.js';

/** The `checkpoints` section of the config (tollgate.config.yaml). */
export interface IntegrityConfig {
  every_events: number;
  every_ms: number;
  witness_file: string | null;
  witness_url: string | null;
  /** Anchor file and log line per checkpoint (docs/integrity.md "Anchors"); where: `deps.anchorFile`. */
  anchors: boolean;
  signing_key_file: string | null;
  signing_key: string | null;
  signing_key_command: string | null;
}

/** Signed checkpoints over one instance's chain. */
export interface Integrity {
  signingKey: SigningKey;
  /** Where the key came from (signing-key-source.ts). */
  signingKeySource: SigningKeySourceKind;
  checkpointWriter: CheckpointWriter;
  /** The keys a checkpoint of this deployment may be signed with: the keyring, else the current key. */
  verifiers(): NoteVerifier[];
}

/**
 * Signed checkpoints from config: the instance's signing key (created on first start, 0600),
 * the witnesses configured, and the checkpoint writer resumed from the last checkpoint stored.
 * The writer starts when traffic does (`checkpointWriter.start()`), and closes with `life`.
 */
export async function createIntegrity(
  config: IntegrityConfig,
  deps: {
    chainId: string;
    /** The data folder's signing key file, used when no other source is configured (its keyring sits beside it). */
    keyPath: string;
    /** This store's anchor file (app/local-paths.ts), or null when anchors are off. */
    anchorFile: string | null;
    events: EventStore;
    checkpoints: CheckpointStore;
    clock: Clock;
    log: Log;
  },
  life: Lifetime,
): Promise<Integrity> {
  const loaded = loadConfiguredSigningKey(config, { path: deps.keyPath, name: `tollgate-${deps.chainId}` });
  const signingKey = loaded.key;
  const keyPath = loaded.keyPath;
  const witnesses = buildCheckpointWitnesses({
    anchorFile: config.anchors ? deps.anchorFile : null,
    witnessFile: config.witness_file,
    witnessUrl: config.witness_url,
    key: signingKey,
    nowMs: deps.clock.now(),
    log: deps.log,
  });
  const checkpointWriter = life.own(
    'checkpoint writer',
    await CheckpointWriter.resume(
      {
        chainId: deps.chainId,
        key: signingKey,
        store: deps.checkpoints,
        clock: deps.clock,
        everyEvents: config.every_events,
        everyMs: config.every_ms,
        witnesses,
        onError: () => deps.log.error({ chain_id: deps.chainId }, 'checkpoint could not be written'),
      },
      deps.events,
    ),
    (w) => w.close(),
  );
  return {
    signingKey,
    signingKeySource: loaded.source,
    checkpointWriter,
    verifiers() {
      const ring = readKeyring(keyPath);
      return ring.length > 0 ? ring : [signingKey.verifier()];
    },
  };
}
