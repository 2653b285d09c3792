import { describe, expect, it } from 'vitest';
import { captureEvent } from './capture.js';
import { newExchange } from './exchange.js';

const exchange = (latencyMs: number | null, ttftMs: number | null) => {
  const x = newExchange({
    source: 'gateway',
    instanceId: 'test',
    eventId: '0190b6f0-0000-7000-8000-000000000000',
    startedAt: Date.UTC(2026, 11, 7),
    endpoint: '/chat/completions',
    method: 'POST',
  });
  x.latencyMs = latencyMs;
  x.ttftMs = ttftMs;
  return x;
};

describe('captureEvent timing', () => {
  it('keeps time to first token in whole milliseconds, never past the latency', () => {
    expect(captureEvent(exchange(157.737, 157.6)).event).toMatchObject({
      latency_ms: 157.737,
      time_to_first_token_ms: 157,
    });
    expect(captureEvent(exchange(900.25, 150.5)).event.time_to_first_token_ms).toBe(151);
    expect(captureEvent(exchange(null, 42.4)).event.time_to_first_token_ms).toBe(42);
    expect(captureEvent(exchange(12, null)).event.time_to_first_token_ms).toBeNull();
  });
});
