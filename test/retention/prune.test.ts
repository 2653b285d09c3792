import { afterEach, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../src/integrity/signing-key.js';
import { appendAdminEvent } from '../../src/retention/append-admin-event.js';
import { adminActionEvent } from '../../src/core/admin-action-event.js';
import { HOLD_CREATE_ACTION, formatHoldMessage } from '../../src/retention/hold-record.js';
import { pruneStore } from '../../src/retention/prune.js';
import { formatVerifyReport } from '../../src/integrity/verify-report-format.js';
import { verifyChains } from '../../src/integrity/verify.js';
import { SqliteContentSearch } from '../../src/store/sqlite/sqlite-content-search.js';
import { DAY, RetentionSite } from './retention-fixture.js';

let site: RetentionSite;
afterEach(() => site?.close());

/** 100 days of traffic, 10 events a day; checkpoints every 10 events. */
async function hundredDays(): Promise<void> {
  site = new RetentionSite(10);
  for (let d = 0; d < 100; d++) {
    await site.traffic(10, (e, i) => {
      e.user_id = i % 10 === 3 ? 'held-user' : `user-${i % 7}`;
    });
    site.clock.advance(DAY);
  }
  await site.flushCheckpoint();
}

async function hold(user: string): Promise<void> {
  const e = adminActionEvent(
    { action: HOLD_CREATE_ACTION, actor: 'cli', subject: null, userId: user, ok: true },
    site.clock,
  );
  e.error_message = formatHoldMessage({
    id: 'hold_0000000001',
    user,
    session: null,
    key: null,
    since: null,
    until: null,
    reason: 'case 1',
  });
  await appendAdminEvent(site.events, 'admin-cli', e);
}

describe('prune', () => {
  it('deletes events past retention up to a signed checkpoint; verify accepts the signed prune record', async () => {
    await hundredDays();
    const dry = await site.prune({ eventsMs: 30 * DAY }, true);
    expect(dry.events).toEqual([
      expect.objectContaining({ chain_id: 'gw-1', first_seq: 1, last_seq: 700, deleted: 700 }),
    ]);
    expect(await site.events.count()).toBe(1000);

    const res = await site.prune({ eventsMs: 30 * DAY });
    expect(res.deleted).toBe(700);
    expect(await site.events.count({ chainId: 'gw-1' })).toBe(300);
    const report = await site.verify();
    expect(report.ok, formatVerifyReport(report)).toBe(true);
    const gw = report.chains.find((c) => c.chain_id === 'gw-1')!;
    expect(gw.tree_size).toBe(1000);
    expect(gw.events_checked).toBe(300);
    expect(gw.pruned).toEqual([
      expect.objectContaining({ first_seq: 1, last_seq: 700, deleted: 700, kept: 0, policy: 'events:30d' }),
    ]);
    expect(report.events_pruned).toBe(700);

    // --from on a pruned chain: the walk starts at the prune boundary, and the report says so.
    const note = gw.latest_checkpoint!.note;
    const fromRun = await verifyChains(site.events, site.checkpoints, [site.key.verifier()], { from: note });
    expect(fromRun.ok).toBe(true);
    const fromChain = fromRun.chains.find((c) => c.chain_id === 'gw-1')!;
    expect(fromChain.events_checked).toBe(300);
    expect(fromChain.from_unused).toMatch(
      /pruned under signed records up to seq 700.*tree size 1000 was not used/,
    );
    expect(formatVerifyReport(fromRun)).toContain('  from: the chain is pruned');
    expect(report.chains.find((c) => c.chain_id === 'gw-1')!.from_unused).toBeUndefined();

    // A second run the next day prunes the next day only, from the boundary.
    site.clock.advance(DAY);
    const again = await site.prune({ eventsMs: 30 * DAY });
    expect(again.events[0]).toMatchObject({ first_seq: 701, last_seq: 710 });
    expect((await site.verify()).ok).toBe(true);
  });

  it('finishes a prune whose process stopped between its signed record and its delete', async () => {
    await hundredDays();
    const events = site.events;
    const deleteChainRange = events.deleteChainRange.bind(events);
    events.deleteChainRange = () => Promise.reject(new Error('killed before the delete'));
    await expect(site.prune({ eventsMs: 30 * DAY })).rejects.toThrow('killed before the delete');
    events.deleteChainRange = deleteChainRange;
    expect(await site.events.count({ chainId: 'gw-1' })).toBe(1000);
    expect((await site.verify()).ok).toBe(false); // the record names rows still stored

    const dry = await site.prune({ eventsMs: 30 * DAY }, true);
    expect(dry.events).toEqual([
      expect.objectContaining({ first_seq: 1, last_seq: 700, deleted: 700, finished: true }),
    ]);
    expect(await site.events.count({ chainId: 'gw-1' })).toBe(1000);

    const res = await site.prune({ eventsMs: 30 * DAY });
    expect(res.events).toEqual([
      expect.objectContaining({ first_seq: 1, last_seq: 700, deleted: 700, finished: true }),
    ]);
    expect(res.events[0]!.record_event_id).toBe(dry.events[0]!.record_event_id);
    expect(await site.events.count({ chainId: 'gw-1' })).toBe(300);
    const report = await site.verify();
    expect(report.ok, formatVerifyReport(report)).toBe(true);
    expect(report.events_pruned).toBe(700);
    // Nothing left to finish: the next run prunes on from the boundary.
    site.clock.advance(DAY);
    const next = await site.prune({ eventsMs: 30 * DAY });
    expect(next.events).toEqual([expect.objectContaining({ first_seq: 701, last_seq: 710 })]);
    expect(next.events[0]!.finished).toBeUndefined();
  });

  it('does not finish an interrupted prune whose rows no longer match its record (a hold placed since)', async () => {
    await hundredDays();
    const events = site.events;
    const deleteChainRange = events.deleteChainRange.bind(events);
    events.deleteChainRange = () => Promise.reject(new Error('killed'));
    await expect(site.prune({ eventsMs: 30 * DAY })).rejects.toThrow('killed');
    events.deleteChainRange = deleteChainRange;
    await hold('held-user');
    const res = await site.prune({ eventsMs: 30 * DAY });
    expect(res.deleted).toBe(0);
    expect(res.skipped).toEqual([
      {
        chain_id: 'gw-1',
        why: expect.stringMatching(/seqs 1\.\.700\) names 700 event\(s\) still stored that do not match/),
      },
    ]);
    expect(await site.events.count({ chainId: 'gw-1' })).toBe(1000);
  });

  it('keeps held events, and detects a held event deleted by hand', async () => {
    await hundredDays();
    await hold('held-user');
    const res = await site.prune({ eventsMs: 30 * DAY });
    expect(res.events[0]).toMatchObject({ deleted: 630, held: 70 });
    expect(await site.events.count({ user: 'held-user', chainId: 'gw-1' })).toBe(100);
    expect((await site.verify()).ok).toBe(true);

    site.db.prepare("DELETE FROM events WHERE chain_id = 'gw-1' AND seq = 14").run();
    const report = await site.verify();
    expect(report.ok).toBe(false);
    expect(report.first_damage).toMatchObject({ kind: 'deleted', chain_id: 'gw-1', seq: 1 });
    expect(report.first_damage!.detail).toMatch(
      /keeping 70 .* but 69 are stored: 1 kept event\(s\) deleted \(the prune record at admin-cli seq \d+\)/,
    );
  });

  it('detects rows deleted past the prune record, and a deletion with no record at all', async () => {
    await hundredDays();
    await site.prune({ eventsMs: 30 * DAY });
    site.db.prepare("DELETE FROM events WHERE chain_id = 'gw-1' AND seq BETWEEN 701 AND 705").run();
    const report = await site.verify();
    expect(report.first_damage).toMatchObject({ kind: 'deleted', seq: 701 });
    expect(report.first_damage!.detail).toContain('events 701..705 are missing');
    expect(report.first_damage!.detail).toContain('the prune records of this chain cover events 1..700 only');

    site.close();
    await hundredDays();
    site.db.prepare("DELETE FROM events WHERE chain_id = 'gw-1' AND seq <= 700").run();
    const plain = await site.verify();
    expect(plain.first_damage).toMatchObject({ kind: 'deleted', seq: 1 });
  });

  it('refuses a prune record signed by a key verify does not trust', async () => {
    await hundredDays();
    const thief = generateSigningKey('tollgate-gw-1');
    await pruneStore({
      events: site.events,
      checkpoints: site.checkpoints,
      signer: thief,
      keys: [site.key.verifier()],
      policy: { eventsMs: 30 * DAY, contentMs: null, batch: 10_000 },
      clock: site.clock,
      record: (e) => appendAdminEvent(site.events, 'admin-cli', e),
    });
    const report = await site.verify();
    expect(report.first_damage).toMatchObject({ kind: 'deleted', seq: 1 });
    expect(report.first_damage!.detail).toContain('not a trusted key');
  });

  it('replaces old content by its digest; verify accepts it and names an event changed afterwards', async () => {
    await hundredDays();
    const search = new SqliteContentSearch(site.db);
    const hits = async (): Promise<number> => (await search.search({ text: 'refund', limit: 500 })).length;
    expect(await hits()).toBe(500);
    const res = await site.prune({ contentMs: 30 * DAY });
    // The pruned content's tokens are gone from the full-text index, not only from the rows.
    expect(await hits()).toBe(300);
    expect(res.content_pruned).toBe(700);
    const e = (await site.events.query({ chainId: 'gw-1', order: 'asc', limit: 1 }))[0]!;
    expect(e.prompt).toMatch(/^pruned:sha256:[0-9a-f]{64}:len=\d+$/);
    const report = await site.verify();
    expect(report.ok, formatVerifyReport(report)).toBe(true);

    site.db.prepare("UPDATE events SET cost_micro_usd = 1 WHERE chain_id = 'gw-1' AND seq = 5").run();
    const bad = await site.verify();
    expect(bad.first_damage).toMatchObject({ kind: 'modified', seq: 1 });
    expect(bad.first_damage!.detail).toContain('an event whose content was pruned was changed afterwards');
  });
});
