import { request, type Dispatcher } from 'undici';

/** What one chat request got back. */
export interface Sent {
  status: number;
  eventId: string | null;
  code: string | null;
  retryAfter: string | null;
  /** The body arrived whole (false: the connection was cut). */
  complete: boolean;
}

/** Sends `n` chat requests, `concurrency` at a time, and reports each outcome. */
export async function sendChat(
  origin: string,
  n: number,
  concurrency = 4,
  dispatcher?: Dispatcher,
): Promise<Sent[]> {
  const out: Sent[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      try {
        const res = await request(`${origin}/v1/chat/completions`, {
          method: 'POST',
          ...(dispatcher ? { dispatcher } : {}),
          headers: {
            'content-type': 'application/json',
            authorization: 'Bearer sk-stress-0123456789abcdefghijklmnop',
          },
          body: JSON.stringify({
            model: 'gpt-4.1-mini',
            stream: i % 3 === 0,
            messages: [{ role: 'user', content: `request ${i}` }],
          }),
        });
        const text = await res.body.text();
        let code: string | null = null;
        if (res.statusCode >= 400) {
          try {
            code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null;
          } catch {
            code = null;
          }
        }
        const id = res.headers['x-tollgate-event-id'];
        const ra = res.headers['retry-after'];
        out.push({
          status: res.statusCode,
          eventId: typeof id === 'string' ? id : null,
          code,
          retryAfter: typeof ra === 'string' ? ra : null,
          complete: true,
        });
      } catch {
        out.push({ status: 0, eventId: null, code: null, retryAfter: null, complete: false });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return out;
}
