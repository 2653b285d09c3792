/**
 * Key rotation that a verifier can follow without trusting the store's folder: for every chain
 * whose newest checkpoint the current key signed, a checkpoint of the same tree (size and root, a
 * new time) that announces the new key (`key <verifier key>`), signed by the current key and by
 * the new one. It goes to the checkpoint store and to the anchor file, which also records the new
 * key. Verify then trusts the new key because a trusted key vouched for it (key-rotation.ts).
 */
import type { Clock } from '../core/clock.js';
import type { CheckpointStore, StoredCheckpoint } from '../store/checkpoint-store.js';
import { AnchorFile } from './anchors.js';
import { openCheckpoint, signCheckpoint } from './checkpoint.js';
import type { SigningKey } from './signing-key.js';

/** What a rotation announced, per chain. */
export interface RotationAnnouncement {
  chain_id: string;
  tree_size: number;
}

/**
 * Announces `next` in a checkpoint co-signed by `current` on each chain `current` signs. Returns
 * the chains announced on; none means no chain's newest checkpoint is `current`'s (nothing to do
 * for verify: the anchor file still records `next` when given).
 */
export async function announceRotation(o: {
  current: SigningKey;
  next: SigningKey;
  checkpoints: CheckpointStore;
  anchorFile: string | null;
  clock: Clock;
}): Promise<RotationAnnouncement[]> {
  const anchors = o.anchorFile !== null ? new AnchorFile(o.anchorFile) : null;
  anchors?.ensure();
  const done: RotationAnnouncement[] = [];
  for (const chainId of await o.checkpoints.chains()) {
    const latest = await o.checkpoints.latest(chainId);
    if (!latest) continue;
    const opened = openCheckpoint(latest.note, [o.current.verifier()]);
    if (!opened.ok) continue;
    const now = o.clock.now();
    const announcement: StoredCheckpoint = {
      chain_id: chainId,
      tree_size: latest.tree_size,
      created_ms: now,
      note: signCheckpoint({ ...opened.checkpoint, timeMs: now, announcedKeys: [o.next.verifierKey] }, [
        o.current,
        o.next,
      ]),
      frontier: latest.frontier,
    };
    await o.checkpoints.append(announcement);
    await anchors?.submit(announcement);
    done.push({ chain_id: chainId, tree_size: latest.tree_size });
  }
  anchors?.recordRotation(o.next.verifierKey, o.clock.now());
  return done;
}
