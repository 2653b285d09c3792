/** The key the observability tests send (a realistic project-key shape, so redaction must catch it). */
export const TEST_KEY = 'sk-proj-obsTestKey0123456789abcdefghijklmnopqrstuvwxyzAB';

export interface ChatRequest {
  model: string;
  stream?: boolean;
  prompt?: string;
  headers?: Record<string, string>;
}

/** Sends one chat completion through the gateway and reads the whole answer; returns the status. */
export async function sendChat(
  baseURL: string,
  r: ChatRequest,
): Promise<{ status: number; body: string; eventId: string | null }> {
  const res = await fetch(`${baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', ...r.headers },
    body: JSON.stringify({
      model: r.model,
      stream: r.stream === true,
      ...(r.stream ? { stream_options: { include_usage: true } } : {}),
      messages: [{ role: 'user', content: r.prompt ?? 'say hello' }],
    }),
  });
  const body = await res.text();
  return { status: res.status, body, eventId: res.headers.get('x-tollgate-event-id') };
}
