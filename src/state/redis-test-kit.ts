import type { Redis } from 'ioredis';
import { createRedisClient, waitForRedis } from './redis-connection.js';

/** The fingerprint secret the shared-state tests' replicas share (key names are HMACs under it). */
export const TEST_KEY_SECRET = Buffer.alloc(32, 7);

/** Test helper: clients on one Redis, and removal of every key under a test's prefix. */
export async function openTestClients(url: string, n: number): Promise<Redis[]> {
  const clients = Array.from({ length: n }, () => createRedisClient(url, { commandTimeoutMs: 5000 }));
  for (const c of clients) await waitForRedis(c, 5000);
  return clients;
}

/** Deletes the keys under `prefix` and disconnects the clients. */
export async function closeTestClients(clients: readonly Redis[], prefix: string): Promise<void> {
  const c = clients[0];
  if (c && c.status === 'ready') {
    let cursor = '0';
    do {
      const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await c.del(...keys);
    } while (cursor !== '0');
  }
  for (const client of clients) client.disconnect();
}
