import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BatchedCounts } from './batched-counts.js';

function pair(): { direct: Counter<'model'>; batched: BatchedCounts<'model'>; registries: Registry[] } {
  const a = new Registry();
  const b = new Registry();
  const direct = new Counter({ name: 'c_total', help: 'h', labelNames: ['model'], registers: [a] });
  let batched: BatchedCounts<'model'> | null = null;
  const viaBatch = new Counter({
    name: 'c_total',
    help: 'h',
    labelNames: ['model'],
    registers: [b],
    collect: (): void => batched!.flush(),
  });
  batched = new BatchedCounts(viaBatch);
  return { direct, batched, registries: [a, b] };
}

describe('BatchedCounts', () => {
  it('reads the same exposition as one inc per count: values, zero counts and series order', async () => {
    const { direct, batched, registries } = pair();
    const counts: Array<[string, number]> = [
      ['m2', 3],
      ['m1', 0],
      ['m2', 5],
      ['m3', 1],
      ['m1', 7],
    ];
    for (const [model, n] of counts.slice(0, 3)) {
      direct.inc({ model }, n);
      batched.add(model, () => ({ model }), n);
    }
    const [a1, b1] = await Promise.all(registries.map((r) => r.metrics()));
    expect(b1).toBe(a1);
    for (const [model, n] of counts.slice(3)) {
      direct.inc({ model }, n);
      batched.add(model, () => ({ model }), n);
    }
    const [a2, b2] = await Promise.all(registries.map((r) => r.metrics()));
    expect(b2).toBe(a2);
    expect(b2).toContain('c_total{model="m1"} 7');
  });

  it('hands a count that is not a whole non-negative number to the counter at once (which refuses a negative)', async () => {
    const { batched, registries } = pair();
    batched.add('m', () => ({ model: 'm' }), 0.5);
    expect(() => batched.add('m', () => ({ model: 'm' }), -1)).toThrow();
    expect(await registries[1]!.metrics()).toContain('c_total{model="m"} 0.5');
  });
});
