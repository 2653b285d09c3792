/**
 * The contract every ContentSearch passes (SQLite FTS5 and PostgreSQL full-text): content and
 * fields found, newest first, AND of terms, a phrase, time bounds, redaction markers findable but
 * never the secret they replaced, and nothing found in content not stored as text.
 */
import { expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import type { ContentSearch } from '../../src/store/content-search.js';
import type { EventStore } from '../../src/store/event-store.js';

export function contentSearchContract(
  make: () => Promise<{ store: EventStore; search: ContentSearch; close: () => Promise<void> }>,
  event: (i: number) => AuditEvent,
): void {
  it('finds stored content and fields, newest first; terms AND; phrases; time bounds; never unstored content', async () => {
    const { store, search, close } = await make();
    try {
      const base = Date.UTC(2026, 0, 1);
      const at = (i: number, patch: Partial<AuditEvent>): AuditEvent => ({
        ...event(i),
        timestamp: new Date(base + i * 60_000).toISOString(),
        ...patch,
      });
      await store.append([
        at(1, {
          content_mode: 'redacted',
          prompt: 'user: deploy the billing service',
          response: 'ok',
          user_id: 'alice',
        }),
        at(2, {
          content_mode: 'redacted',
          prompt: 'user: my key is [REDACTED:aws_access_key] please help',
          response: null,
          user_id: 'bob',
        }),
        at(3, {
          content_mode: 'redacted',
          prompt: 'user: billing report for March',
          response: 'done',
          user_id: 'carol',
        }),
        // Encrypted content is ciphertext in the store: never matched, even if it looked like words.
        at(4, { content_mode: 'encrypted', prompt: 'billing secret words', response: null, user_id: 'dave' }),
      ]);
      const ids = async (
        text: string,
        extra: { sinceMs?: number; untilMs?: number } = {},
      ): Promise<string[]> =>
        (await search.search({ text, limit: 50, ...extra })).map((e) => e.user_id ?? '');
      expect(await ids('billing')).toEqual(['carol', 'alice']);
      expect(await ids('billing march')).toEqual(['carol']);
      expect(await ids('"billing service"')).toEqual(['alice']);
      expect(await ids('"service billing"')).toEqual([]);
      expect(await ids('REDACTED aws_access_key')).toEqual(['bob']);
      // Fields are searchable too; the encrypted event is found by its fields only.
      expect(await ids('dave')).toEqual(['dave']);
      expect(await ids('secret')).toEqual([]);
      expect(await ids('billing', { sinceMs: base + 2 * 60_000 })).toEqual(['carol']);
      expect(await ids('billing', { untilMs: base + 2 * 60_000 })).toEqual(['alice']);
      // Query syntax in user text is text, not an error.
      expect(await ids('billing OR NEAR( "unterminated * ^col:')).toEqual([]);
      expect(await ids('   ')).toEqual([]);
      // New events are found by the next search.
      await store.append([
        at(5, { content_mode: 'full', prompt: 'user: billing again', response: null, user_id: 'erin' }),
      ]);
      expect(await ids('billing')).toEqual(['erin', 'carol', 'alice']);
    } finally {
      await close();
    }
  });
}
