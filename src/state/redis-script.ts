import { createHash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';

/**
 * A Lua script run with EVALSHA, falling back to EVAL when the server has not cached it yet
 * (NOSCRIPT after a restart or a failover). Redis runs a script atomically: no other command
 * interleaves, which is what makes check-and-debit safe across replicas.
 */
export class RedisScript {
  private readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }

  /**
   * Adds the script to a pipeline. EVAL, not EVALSHA: a pipeline cannot fall back per command,
   * and the source is sent once per pipeline (a flush), not per request.
   */
  queue(pipeline: ChainableCommander, keys: readonly string[], args: readonly (string | number)[]): void {
    pipeline.eval(this.source, keys.length, ...keys, ...args);
  }
}
