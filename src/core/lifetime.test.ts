import { describe, expect, it } from 'vitest';
import { Lifetime } from './lifetime.js';

describe('Lifetime', () => {
  it('closes in reverse order of acquisition, each awaited before the next', async () => {
    const life = new Lifetime();
    const order: string[] = [];
    life.own('store', { id: 'store' }, async (r) => {
      await Promise.resolve();
      order.push(r.id);
    });
    life.defer('timer', () => order.push('timer'));
    const server = life.own('server', { id: 'server' }, (r) => order.push(r.id));
    expect(server.id).toBe('server');
    await life.close();
    expect(order).toEqual(['server', 'timer', 'store']);
  });

  it('a failing close does not stop the others and is reported by name', async () => {
    const life = new Lifetime();
    const closed: string[] = [];
    const failed: string[] = [];
    life.defer('a', () => closed.push('a'));
    life.defer('b', () => {
      throw new Error('boom');
    });
    life.defer('c', () => Promise.reject(new Error('boom')));
    await life.close((name) => failed.push(name));
    expect(closed).toEqual(['a']);
    expect(failed).toEqual(['c', 'b']);
  });

  it('closes once, and refuses resources after close', async () => {
    const life = new Lifetime();
    let n = 0;
    life.defer('x', () => n++);
    await Promise.all([life.close(), life.close()]);
    await life.close();
    expect(n).toBe(1);
    expect(() => life.defer('late', () => undefined)).toThrow(/already closed/);
  });
});
