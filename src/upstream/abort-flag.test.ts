import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { AbortFlag } from './abort-flag.js';

describe('AbortFlag', () => {
  it('tells each listener once, at the first abort, and not a removed one', () => {
    const flag = new AbortFlag();
    const told: string[] = [];
    const a = (): void => void told.push('a');
    const b = (): void => void told.push('b');
    flag.addEventListener('abort', a, { once: true });
    flag.addEventListener('abort', b);
    flag.removeEventListener('abort', b);
    expect(flag.aborted).toBe(false);
    flag.abort();
    flag.abort();
    expect(flag.aborted).toBe(true);
    expect(told).toEqual(['a']);
    expect(flag.listenerCount('abort')).toBe(0);
  });

  it('aborts an undici request waiting for its answer', async () => {
    const server = createServer(() => undefined); // never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const agent = new Agent();
    try {
      const flag = new AbortFlag();
      const port = (server.address() as AddressInfo).port;
      const pending = agent.request({
        origin: `http://127.0.0.1:${port}`,
        path: '/',
        method: 'GET',
        signal: flag,
      });
      setTimeout(() => flag.abort(), 20);
      await expect(pending).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });
    } finally {
      await agent.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
