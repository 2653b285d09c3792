/**
 * Issue 21 "Must show": 400 simulated days of traffic on a SQLite store, pruned by the
 * scheduled prune's code (every 5 days) with 90 days of retention for events and 30 for content, so
 * that most of the trail goes: events past retention deleted as
 * configured, held ones kept, verify OK, cost reports for the kept period (and for the whole
 * period: rollups are not events) unchanged, and a hand-made deletion still detected.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { costReport } from '../../src/reports/cost-report.js';
import { sqliteRollupReader } from '../../src/store/sqlite/sqlite-rollups.js';
import { formatVerifyReport } from '../../src/integrity/verify-report-format.js';
import { adminActionEvent } from '../../src/core/admin-action-event.js';
import { HOLD_CREATE_ACTION, formatHoldMessage } from '../../src/retention/hold-record.js';
import { appendAdminEvent } from '../../src/retention/append-admin-event.js';
import { DAY, RetentionSite } from './retention-fixture.js';

const site = new RetentionSite(12);
afterAll(() => site.close());

const EVENTS_MS = 90 * DAY;
const CONTENT_MS = 30 * DAY;
const PER_DAY = 6;
/** The prune runs every few simulated days (the gateway's runs every retention.prune_every_ms). */
const PRUNE_EVERY_DAYS = 5;

describe('retention over 400 simulated days', () => {
  it('prunes on schedule as configured, keeps held events, verifies, and leaves the cost reports unchanged', async () => {
    const start = site.clock.now();
    const reader = sqliteRollupReader(site.rollups);
    // A hold placed on day 10 on one person, for the whole run.
    let deletedTotal = 0;
    let early: Awaited<ReturnType<typeof costReport>> | null = null;
    let late: Awaited<ReturnType<typeof costReport>> | null = null;
    let earlyQuota: Awaited<ReturnType<typeof reader.providerQuota>> | null = null;
    let contentTotal = 0;
    for (let day = 0; day < 400; day++) {
      await site.traffic(PER_DAY, (e, i) => {
        e.user_id = i % 6 === 5 ? 'under-investigation' : `user-${i % 9}`;
        e.session_id = `s-${day}-${i % 3}`;
        // The provider's quota readings: a summary kept at write time, like the cost rollups.
        e.provider_key_id = 'pk-retention';
        e.provider_requests_remaining = 900 - ((day * PER_DAY + i) % 900);
        e.provider_requests_limit = 1000;
      });
      site.clock.advance(DAY);
      if (day === 10) {
        const h = adminActionEvent(
          { action: HOLD_CREATE_ACTION, actor: 'cli', subject: null, ok: true },
          site.clock,
        );
        h.error_message = formatHoldMessage({
          id: 'hold_00000000aa',
          user: 'under-investigation',
          session: null,
          key: null,
          since: null,
          until: null,
          reason: 'case 2026-17',
        });
        await appendAdminEvent(site.events, 'admin-cli', h);
      }
      await site.flushCheckpoint();
      if (day === 95) {
        // The first 95 days, reported just as their events start to go: the same report at the end.
        early = await costReport(reader, { by: 'model', sinceMs: start, untilMs: start + 95 * DAY });
        earlyQuota = await reader.providerQuota(start, start + 95 * DAY, 10);
      }
      if (day === 399)
        late = await costReport(reader, {
          by: 'day',
          sinceMs: start + 340 * DAY,
          untilMs: start + 400 * DAY,
        });
      // The scheduled prune (the gateway's scheduler runs this same function).
      if (day % PRUNE_EVERY_DAYS !== 4) continue;
      const r = await site.prune({ eventsMs: EVENTS_MS, contentMs: CONTENT_MS });
      deletedTotal += r.deleted;
      contentTotal += r.content_pruned;
    }
    const now = site.clock.now();
    const total = 400 * PER_DAY;
    const gw = await site.events.count({ chainId: 'gw-1' });
    const held = await site.events.count({ chainId: 'gw-1', user: 'under-investigation' });
    // Every event older than 90 days is gone except the held ones (the boundary is the last
    // checkpoint before the cutoff, and prunes run every 5 days: at most 5 days and one checkpoint interval are still there).
    const olderThanRetention = await site.events.count({ chainId: 'gw-1', untilMs: now - EVENTS_MS });
    const heldOld = await site.events.count({
      chainId: 'gw-1',
      user: 'under-investigation',
      untilMs: now - EVENTS_MS,
    });
    expect(held).toBe(total / 6);
    expect(olderThanRetention - heldOld).toBeLessThanOrEqual(PRUNE_EVERY_DAYS * PER_DAY + 12);
    expect(deletedTotal).toBe(total - gw);
    expect(deletedTotal).toBeGreaterThan(total * 0.6);
    expect(contentTotal).toBeGreaterThan(0);
    // Content older than 30 days is a digest, except the held person's.
    const recent = await site.events.query({ chainId: 'gw-1', sinceMs: now - 20 * DAY, limit: 1 });
    expect(recent[0]!.prompt).not.toMatch(/^pruned:/);
    const oldKept = await site.events.query({
      chainId: 'gw-1',
      sinceMs: now - 80 * DAY,
      untilMs: now - 40 * DAY,
    });
    expect(
      oldKept
        .filter((e) => e.user_id !== 'under-investigation')
        .every((e) => e.prompt!.startsWith('pruned:sha256:')),
    ).toBe(true);
    expect(
      oldKept
        .filter((e) => e.user_id === 'under-investigation')
        .every((e) => !e.prompt!.startsWith('pruned:')),
    ).toBe(true);

    const report = await site.verify();
    expect(report.ok, formatVerifyReport(report)).toBe(true);
    expect(report.events_pruned).toBe(deletedTotal);
    console.log(
      `400 days: ${total} events, ${deletedTotal} pruned in ${report.chains.find((c) => c.chain_id === 'gw-1')!.pruned.length} signed prune records, ${held} held kept, content of ${contentTotal} digested; verify: ${report.duration_ms} ms`,
    );

    // Cost reports read rollups, not events: the whole period and the kept period add up exactly.
    const whole = await costReport(reader, { by: 'model', sinceMs: start, untilMs: now });
    const expectedCost = Array.from({ length: total }, (_, i) => 1250 + i).reduce((a, b) => a + b, 0);
    expect(whole.totals.cost_micro_usd).toBe(expectedCost);
    expect(whole.totals.requests).toBe(total);
    expect(await costReport(reader, { by: 'model', sinceMs: start, untilMs: start + 95 * DAY })).toEqual(
      early,
    );
    expect(
      await costReport(reader, { by: 'day', sinceMs: start + 340 * DAY, untilMs: start + 400 * DAY }),
    ).toEqual(late);
    expect(late!.totals.requests).toBe(60 * PER_DAY);
    // So is the provider quota summary: the pruned days' readings are still summarised.
    expect(earlyQuota!.rows[0]).toMatchObject({ key: 'pk-retention', readings: 95 * PER_DAY });
    expect(await reader.providerQuota(start, start + 95 * DAY, 10)).toEqual(earlyQuota);

    // A hand-made deletion after the prune is still detected, with what and where.
    const boundary = report.chains.find((c) => c.chain_id === 'gw-1')!.pruned.at(-1)!.last_seq;
    site.db.prepare("DELETE FROM events WHERE chain_id = 'gw-1' AND seq = ?").run(boundary + 7);
    const bad = await site.verify();
    expect(bad.ok).toBe(false);
    expect(bad.first_damage).toMatchObject({ kind: 'deleted', chain_id: 'gw-1', seq: boundary + 7 });
  }, 300_000);
});
