/**
 * Writes one streamed answer, whatever its dialect: the opening frames, the content frames (with
 * the script's delays, cut-offs and stalls), then the closing frames. Each dialect only says what
 * its frames look like.
 */
import type { ServerResponse } from 'node:http';
import { sleep } from './mock-text.js';

/** The frames of one stream, already serialized in the dialect's framing (SSE, NDJSON, JSON array). */
export interface StreamPlan {
  contentType: string;
  /** Sent at once, before any content (OpenAI's role chunk, `message_start`, `response.created`). */
  head: string[];
  /** One frame per content piece. */
  pieces: string[];
  /** Sent after the content: finish, usage and the dialect's healthy end. */
  tail: string[];
  /** An endless stream's content frame for `text` (chat only). */
  endlessPiece?: (text: string) => string;
}

/** How the script shapes a stream (a subset of `MockScript`). */
export interface StreamShape {
  truncateAfterChunks?: number;
  stallAfterChunks?: number;
  /** Wait this long after the opening frames before the first content frame (TTFT ≠ first byte). */
  firstTokenDelayMs?: number;
  endless?: boolean;
  chunkText?: string;
  maxEndlessMs?: number;
}

/** Streams `plan` to `res`; `onPeerAbort` is told when the client went away before the end. */
export async function writeStream(
  res: ServerResponse,
  plan: StreamPlan,
  shape: StreamShape,
  delayMs: number,
  onPeerAbort: () => void,
): Promise<void> {
  res.writeHead(200, {
    'content-type': plan.contentType,
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  let closed = false;
  res.on('close', () => {
    if (!res.writableFinished) {
      closed = true;
      onPeerAbort();
    }
  });
  for (const frame of plan.head) res.write(frame);
  if (shape.firstTokenDelayMs) await sleep(shape.firstTokenDelayMs);
  if (shape.endless && plan.endlessPiece) {
    const frame = plan.endlessPiece(shape.chunkText ?? 'more ');
    const until = Date.now() + (shape.maxEndlessMs ?? 120_000);
    while (!closed && Date.now() < until) {
      // Respect back-pressure, so the mock itself stays bounded in memory.
      if (!res.write(frame)) {
        await new Promise<void>((r) => {
          const done = (): void => {
            res.off('drain', done).off('close', done);
            r();
          };
          res.on('drain', done).on('close', done);
        });
      } else if (delayMs > 0) await sleep(delayMs);
      else await new Promise((r) => setImmediate(r));
    }
    if (!closed) res.destroy();
    return;
  }
  for (let i = 0; i < plan.pieces.length; i++) {
    if (closed) return;
    if (shape.truncateAfterChunks !== undefined && i >= shape.truncateAfterChunks) {
      // Let what was written reach the wire first: destroy() discards unflushed data.
      await sleep(20);
      res.destroy();
      return;
    }
    if (shape.stallAfterChunks !== undefined && i >= shape.stallAfterChunks) return;
    if (delayMs > 0) await sleep(delayMs);
    if (closed) return;
    res.write(plan.pieces[i]!);
  }
  const last = plan.tail.length - 1;
  plan.tail.forEach((frame, i) => (i === last ? res.end(frame) : res.write(frame)));
  if (plan.tail.length === 0) res.end();
}

/** A server-sent event: `event:` line when the dialect names its events (Anthropic, Responses). */
export function sse(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}
