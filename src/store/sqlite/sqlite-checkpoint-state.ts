/** What the checkpoint thread (sqlite-checkpoint-thread.ts) and its worker share. */

/** What the worker is given: the store's file, and the state it shares with the thread. */
export interface CheckpointWorkerData {
  file: string;
  /**
   * Two int32: [STATE_BUSY] 1 while a checkpoint is asked for and not done, [STATE_DONE]
   * checkpoints done so far. Shared memory rather than a message back, so a commit on an event
   * loop that has no turn to spare (a replay, a drain) still sees that the checkpoint finished.
   */
  state: SharedArrayBuffer;
}

/** Told to the thread when a checkpoint failed: its SQLite code (never content). */
export interface CheckpointFailed {
  error: { code: string | null };
}

export const STATE_BUSY = 0;
export const STATE_DONE = 1;
