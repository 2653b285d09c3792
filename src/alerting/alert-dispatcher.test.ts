import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import type { Alert, AlertChange, AlertDelivery } from './alert.js';
import { createAlertDispatcher } from './alert-dispatcher.js';
import type { AlertSink, SinkResult } from './alert-sink.js';
import { sampleAlert } from './alert-store.contract.js';
import { MemoryAlertStore } from './memory-alert-store.js';

/** A sink whose sends wait until released, to model a slow endpoint. */
class HeldSink implements AlertSink {
  readonly sent: { alert: Alert; change: AlertChange }[] = [];
  private release: (() => void)[] = [];
  constructor(readonly name: string) {}
  send(alert: Alert, change: AlertChange): Promise<SinkResult> {
    this.sent.push({ alert, change });
    return new Promise((resolve) => this.release.push(() => resolve({ ok: true })));
  }
  releaseAll(): void {
    for (const r of this.release.splice(0)) r();
  }
}

class RecordingSink implements AlertSink {
  readonly sent: string[] = [];
  constructor(readonly name: string) {}
  async send(alert: Alert): Promise<SinkResult> {
    this.sent.push(alert.id);
    return { ok: true };
  }
}

const alertN = (n: number): Alert =>
  sampleAlert({ id: `01900000-0000-7000-8000-${String(n).padStart(12, '0')}` });

describe('alert dispatcher', () => {
  it('a slow sink neither blocks dispatch nor delays another sink; overflow is dropped, counted and recorded', async () => {
    const clock = new ManualClock();
    const slow = new HeldSink('slow');
    const fast = new RecordingSink('fast');
    const deliveries: [string, AlertDelivery][] = [];
    const dispatcher = createAlertDispatcher({
      sinks: [slow, fast],
      clock,
      queueCapacity: 3,
      onDelivery: (id, d) => deliveries.push([id, d]),
    });
    for (let i = 1; i <= 6; i++) dispatcher.dispatch(alertN(i), 'new'); // returns at once
    await new Promise((r) => setImmediate(r));
    expect(fast.sent).toHaveLength(4); // all it accepted is delivered while slow still hangs
    expect(dispatcher.stats()['fast']).toMatchObject({ delivered: 4, dropped: 2, queued: 0 });
    // slow: 1 in flight, 3 queued, 2 dropped
    expect(dispatcher.stats()['slow']).toMatchObject({ dropped: 2, queued: 3 });
    expect(
      deliveries.filter(([, d]) => d.sink === 'slow' && d.status === 'dropped').map(([id]) => id.slice(-1)),
    ).toEqual(['5', '6']);
    for (let i = 0; i < 4; i++) {
      slow.releaseAll();
      await new Promise((r) => setImmediate(r));
    }
    await dispatcher.drain();
    expect(slow.sent.map((s) => s.alert.id.slice(-1))).toEqual(['1', '2', '3', '4']);
  });

  it('sends new and escalated changes, not every update, and coalesces a queued alert to its newest state', async () => {
    const clock = new ManualClock();
    const slow = new HeldSink('slow');
    const dispatcher = createAlertDispatcher({ sinks: [slow], clock });
    dispatcher.dispatch(alertN(1), 'new');
    dispatcher.dispatch(alertN(2), 'new');
    dispatcher.dispatch({ ...alertN(2), count: 5 }, 'updated'); // not sent on its own
    dispatcher.dispatch({ ...alertN(2), count: 9, severity: 'CRITICAL' }, 'escalated');
    slow.releaseAll();
    await new Promise((r) => setImmediate(r));
    slow.releaseAll();
    await dispatcher.drain();
    expect(slow.sent.map((s) => [s.alert.id.slice(-1), s.change, s.alert.count])).toEqual([
      ['1', 'new', 1],
      ['2', 'new', 9],
    ]);
  });

  it('sends a resolved notice by default, never merged into a page still waiting, and records it beside the page', async () => {
    const clock = new ManualClock();
    const slow = new HeldSink('pager');
    const store = new MemoryAlertStore();
    const outage = alertN(7);
    await store.upsert(outage);
    const dispatcher = createAlertDispatcher({ sinks: [slow], clock, store });
    dispatcher.dispatch(alertN(6), 'new'); // in flight: the page for alert 7 waits behind it
    dispatcher.dispatch(outage, 'new');
    dispatcher.dispatch({ ...outage, description: 'over' }, 'resolved');
    dispatcher.dispatch({ ...outage, description: 'over, final' }, 'resolved'); // merges with the waiting notice
    for (let i = 0; i < 4; i++) {
      slow.releaseAll();
      await new Promise((r) => setImmediate(r));
    }
    await dispatcher.drain();
    expect(slow.sent.map((s) => [s.alert.id.slice(-1), s.change, s.alert.description])).toEqual([
      ['6', 'new', outage.description],
      ['7', 'new', outage.description],
      ['7', 'resolved', 'over, final'],
    ]);
    await new Promise((r) => setImmediate(r));
    const deliveries = (await store.get(outage.id))!.deliveries.map((d) => [d.sink, d.status]);
    expect(deliveries.sort()).toEqual([
      ['pager', 'delivered'],
      ['pager:resolved', 'delivered'],
    ]);
  });

  it('survives a sink that throws', async () => {
    const clock = new ManualClock();
    const throwing: AlertSink = {
      name: 'throwing',
      send: () => {
        throw new Error('bug');
      },
    };
    const dispatcher = createAlertDispatcher({
      sinks: [throwing],
      clock,
      maxAttempts: 2,
      sleep: async () => undefined,
    });
    expect(() => dispatcher.dispatch(alertN(1), 'new')).not.toThrow();
    await dispatcher.drain();
    expect(dispatcher.stats()['throwing']).toMatchObject({ failed: 1, retries: 1 });
  });
});
