import { Agent, request } from 'undici';

/** One response the client received whole. */
export interface Completed {
  eventId: string;
  status: number;
  stream: boolean;
  /** performance.now() when the last byte arrived. */
  endedAt: number;
  /** Date.now() when the last byte arrived (to compare with times the gateway records). */
  endedAtMs: number;
}

/**
 * Steady concurrent chat traffic against a gateway: `concurrency` workers, each sending one
 * request after the other until `stop()`. Only responses read to their end count as completed;
 * a request cut by a crash counts as failed (the client never saw a complete answer).
 */
export class LoadDriver {
  readonly completed: Completed[] = [];
  failed = 0;
  private running = true;
  private readonly agent = new Agent({
    connections: 64,
    keepAliveTimeout: 5_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  private readonly workers: Promise<void>[] = [];

  constructor(
    private readonly baseUrl: string,
    concurrency: number,
    private readonly maxRequests = 1_000_000,
  ) {
    for (let w = 0; w < concurrency; w++) this.workers.push(this.work(w));
  }

  private async work(w: number): Promise<void> {
    let i = 0;
    while (this.running && this.completed.length + this.failed < this.maxRequests) {
      const stream = (i + w) % 2 === 0;
      i++;
      try {
        const res = await request(`${this.baseUrl}/v1/chat/completions`, {
          method: 'POST',
          dispatcher: this.agent,
          headers: {
            'content-type': 'application/json',
            authorization: 'Bearer sk-stress-0123456789abcdefghijklmnop',
            'x-tollgate-user': `user-${w}`,
          },
          body: JSON.stringify({
            model: 'gpt-4.1-mini',
            stream,
            messages: [{ role: 'user', content: `hello ${w} ${i} mail me at a${i}@example.com` }],
          }),
        });
        await res.body.text();
        const eventId = res.headers['x-tollgate-event-id'];
        if (typeof eventId === 'string')
          this.completed.push({
            eventId,
            status: res.statusCode,
            stream,
            endedAt: performance.now(),
            endedAtMs: Date.now(),
          });
      } catch {
        this.failed++;
        // The server is gone (killed): do not spin on ECONNREFUSED.
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** Stops sending and waits for the workers (bounded by the agent's timeouts). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.allSettled(this.workers);
    await this.agent.destroy();
  }
}
