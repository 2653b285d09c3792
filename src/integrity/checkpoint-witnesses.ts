/**
 * The witnesses of a gateway's checkpoints, from its settings: the anchor file (on by default),
 * the structured log, and the optional witness file and webhook. Also pins the signing key in the
 * anchor file on first use (anchors.ts).
 */
import type { Log } from '../core/log.js';
import { AnchorFile, LogWitness } from './anchors.js';
import type { SigningKey } from './signing-key.js';
import { FileWitness, HttpWitness, type Witness } from './witness.js';

export interface CheckpointWitnessOptions {
  /** This store's anchor file; null when anchors are off. */
  anchorFile: string | null;
  witnessFile: string | null;
  witnessUrl: string | null;
  key: SigningKey;
  nowMs: number;
  /** The operational log: each checkpoint line (info), and problems with the anchors (error). */
  log: Pick<Log, 'info' | 'error'>;
}

/**
 * Builds the witnesses. An anchor folder that cannot be created is logged, not fatal: the gateway
 * keeps serving and `verify` reports that nothing was anchored.
 */
export function buildCheckpointWitnesses(o: CheckpointWitnessOptions): Witness[] {
  const witnesses: Witness[] = [];
  if (o.anchorFile !== null) {
    const anchors = new AnchorFile(o.anchorFile);
    try {
      anchors.ensure();
      if (!anchors.pinKey(o.key.verifierKey, o.nowMs))
        o.log.error(
          { anchor_file: o.anchorFile, key: `${o.key.name}+${o.key.keyId.toString(16).padStart(8, '0')}` },
          'the checkpoint signing key is not the one the anchors pinned and no rotation announced it: verify will fail (rotate keys with tollgate signing-key rotate)',
        );
      witnesses.push(anchors);
    } catch {
      o.log.error(
        { anchor_file: o.anchorFile },
        'anchor file could not be created: checkpoints are not anchored',
      );
    }
  }
  witnesses.push(new LogWitness((fields, msg) => o.log.info(fields, msg)));
  if (o.witnessFile) witnesses.push(new FileWitness(o.witnessFile));
  if (o.witnessUrl) witnesses.push(new HttpWitness(o.witnessUrl));
  return witnesses;
}
