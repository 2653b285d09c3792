/**
 * fail-closed holds a success until its event commits (docs/decisions/0002). The crash test can
 * only hit the window between "last byte written" and "commit" by chance; this one holds the commit
 * open on purpose and checks the client cannot see a complete response inside that window, and
 * that a commit that fails leaves the client with a broken response, not a success.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { AuditEvent } from '../../src/core/audit-event.js';
import type { EventStore } from '../../src/store/event-store.js';
import { FlakyEventStore } from '../support/flaky-event-store.js';
import { startHarness, type Harness } from '../support/gateway-harness.js';

/** A store whose appends wait until `release()` (or fail with `fail()`). */
class GatedEventStore extends FlakyEventStore {
  private gate: { open: Promise<void>; release: () => void; fail: (e: Error) => void } | null = null;
  appendsWaiting = 0;
  hold(): void {
    let release!: () => void;
    let fail!: (e: Error) => void;
    const open = new Promise<void>((res, rej) => {
      release = res;
      fail = rej;
    });
    this.gate = { open, release, fail };
  }
  release(): void {
    this.gate?.release();
    this.gate = null;
  }
  fail(): void {
    this.gate?.fail(new Error('disk gone'));
    this.gate = null;
  }
  override async append(events: readonly AuditEvent[]): Promise<void> {
    if (this.gate && events.length > 0) {
      this.appendsWaiting++;
      await this.gate.open;
    }
    return super.append(events);
  }
}

const BODY = JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hold me' }] });
const HEADERS = {
  'content-type': 'application/json',
  authorization: 'Bearer sk-test-0123456789abcdefghijklmnop',
};

describe('fail-closed: no complete success before its event is committed', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  for (const stream of [false, true]) {
    it(`${stream ? 'stream' : 'JSON'} response: the client is still waiting while the commit is held`, async () => {
      let gated!: GatedEventStore;
      h = await startHarness({
        gateway: { policy: 'fail-closed' },
        wrapStore: (s: EventStore) => (gated = new GatedEventStore(s)),
      });
      gated.hold();
      let done = false;
      const body = stream ? JSON.stringify({ ...JSON.parse(BODY), stream: true }) : BODY;
      const pending = request(`${h.baseURL}/chat/completions`, {
        method: 'POST',
        headers: HEADERS,
        body,
      }).then(async (res) => {
        const text = await res.body.text();
        done = true;
        return { status: res.statusCode, text };
      });
      // Wait until the gateway is in the commit (the append is parked on the gate).
      for (let i = 0; i < 500 && gated.appendsWaiting === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(gated.appendsWaiting).toBe(1);
      await new Promise((r) => setTimeout(r, 300));
      expect(done).toBe(false);
      gated.release();
      const r = await pending;
      expect(r.status).toBe(200);
      expect((await h.events()).map((e) => e.status)).toEqual(['SUCCESS']);
    });
  }

  it('a commit that fails leaves the client with a broken response, never a complete 200', async () => {
    let gated!: GatedEventStore;
    h = await startHarness({
      gateway: { policy: 'fail-closed' },
      wrapStore: (s: EventStore) => (gated = new GatedEventStore(s)),
    });
    gated.hold();
    const pending = (async () => {
      try {
        const res = await request(`${h.baseURL}/chat/completions`, {
          method: 'POST',
          headers: HEADERS,
          body: BODY,
        });
        return { ok: true, status: res.statusCode, text: await res.body.text() };
      } catch {
        return { ok: false };
      }
    })();
    for (let i = 0; i < 500 && gated.appendsWaiting === 0; i++) await new Promise((r) => setTimeout(r, 10));
    gated.fail();
    const r = await pending;
    expect(r.ok, 'the client received a complete response although its event was not committed').toBe(false);
  });
});
