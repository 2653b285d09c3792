import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import type { Alert, AlertChange } from './alert.js';
import { sampleAlert } from './alert-store.contract.js';
import { createAlertWriteCoalescer } from './alert-write-coalescer.js';

describe('alert write coalescer', () => {
  it('writes new alerts at once, coalesces updates, and always writes the latest state', async () => {
    const clock = new ManualClock();
    const writes: Array<[number, AlertChange]> = [];
    const c = createAlertWriteCoalescer({
      clock,
      intervalMs: 5000,
      write: async (a: Alert, ch) => void writes.push([a.count, ch]),
    });
    const a = sampleAlert({ count: 1 });
    c.onAlert(a, 'new');
    for (let n = 2; n <= 100; n++) {
      clock.advance(10);
      c.onAlert({ ...a, count: n }, 'updated');
    }
    expect(writes).toEqual([[1, 'new']]);
    c.onAlert({ ...a, count: 101, severity: 'CRITICAL' }, 'escalated');
    expect(writes.at(-1)).toEqual([101, 'escalated']);
    c.onAlert({ ...a, count: 102 }, 'updated');
    await c.flush();
    expect(writes.at(-1)).toEqual([102, 'updated']);
    expect(writes).toHaveLength(3);
  });
});
