/**
 * Key rotation by announcement: a checkpoint signed by a trusted key may carry `key <verifier key>`
 * lines (checkpoint.ts); the announced keys are trusted from then on. Verify starts from root keys
 * that do not live in the store (`--keys`, or the keys pinned in the anchor file) and follows the
 * announcements, so a key someone put in the store's folder is not trusted unless a trusted key
 * vouched for it.
 */
import { openCheckpoint } from './checkpoint.js';
import { parseVerifierKey, type NoteVerifier } from './signed-note.js';

/** The root keys plus every key announced, directly or through a chain of rotations, in `notes`. */
export function followRotations(roots: readonly NoteVerifier[], notes: readonly string[]): NoteVerifier[] {
  const trusted = new Map(roots.map((k) => [k.verifierKey, k]));
  let pending = [...notes];
  for (;;) {
    const rest: string[] = [];
    let added = false;
    for (const note of pending) {
      const opened = openCheckpoint(note, [...trusted.values()]);
      if (!opened.ok) {
        rest.push(note);
        continue;
      }
      for (const text of opened.checkpoint.announcedKeys ?? []) {
        if (trusted.has(text)) continue;
        try {
          trusted.set(text, parseVerifierKey(text));
          added = true;
        } catch {
          // A malformed announcement vouches for nothing.
        }
      }
    }
    if (!added) return [...trusted.values()];
    pending = rest;
  }
}
