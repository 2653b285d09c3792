import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { ManualClock } from '../../src/core/clock.js';
import { createJsonlFileSink } from '../../src/export/jsonl-file-sink.js';
import { startHarness } from '../support/gateway-harness.js';
import { testEvent } from '../support/test-event.js';
import { sendChat } from './send-chat.js';

function event(i: number, text = 'x'): AuditEvent {
  return testEvent({ timestamp: '2026-11-20T12:00:00.000Z', prompt: text, input_tokens: i }, i);
}

describe('rotating JSONL file sink', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-sink-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const files = (): string[] => readdirSync(dir).sort();
  const lines = (f: string): string[] => readFileSync(join(dir, f), 'utf8').split('\n').slice(0, -1);

  it('writes one event per line off the request path, in a timestamped file with mode 0600', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 21, 5, 1));
    const sink = createJsonlFileSink({ dir, clock });
    sink.listener(event(1, 'a\nb \u2028 c'));
    sink.listener(event(2));
    expect(files()).toEqual([]); // nothing written synchronously
    await new Promise((r) => setImmediate(r));
    expect(files()).toEqual(['events-20261126-210501.jsonl']);
    const got = lines('events-20261126-210501.jsonl');
    expect(got).toHaveLength(2);
    expect((JSON.parse(got[0]!) as AuditEvent).prompt).toBe('a\nb \u2028 c');
    expect(got[0]).not.toMatch(/\u2028/);
    expect(statSync(join(dir, files()[0]!)).mode & 0o777).toBe(0o600);
    sink.close();
    expect(sink.stats()).toEqual({ written: 2, dropped: 0, files: 1 });
  });

  it('rotates by size without splitting a line, and keeps at most max_files', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 0, 0, 0));
    const one = `${JSON.stringify(event(1, 'y'.repeat(200)))}\n`.length;
    const sink = createJsonlFileSink({ dir, clock, maxBytes: one * 3 + 10, maxFiles: 3 });
    for (let i = 0; i < 20; i++) {
      sink.listener(event(i, 'y'.repeat(200)));
      if (i % 2 === 1) {
        sink.flush();
        clock.advance(1000);
      }
    }
    sink.close();
    const kept = files();
    expect(kept).toHaveLength(3);
    for (const f of kept) {
      expect(f).toMatch(/^events-\d{8}-\d{6}(-\d+)?\.jsonl$/);
      expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(one * 3 + 10);
      for (const l of lines(f)) expect(() => JSON.parse(l) as unknown).not.toThrow();
    }
    // The newest files hold the newest events, in order, ending with the last one.
    const all = kept.flatMap(lines).map((l) => (JSON.parse(l) as AuditEvent).input_tokens);
    expect(all.at(-1)).toBe(19);
    expect([...all].sort((a, b) => a! - b!)).toEqual(all);
    expect(sink.stats().written).toBe(20);
  });

  it('rotates by age', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 0, 0, 0));
    const sink = createJsonlFileSink({ dir, clock, rotateMs: 3_600_000 });
    sink.listener(event(1));
    sink.flush();
    clock.advance(3_599_000);
    sink.listener(event(2));
    sink.flush();
    clock.advance(1_000);
    sink.listener(event(3));
    sink.close();
    expect(files()).toEqual(['events-20261126-000000.jsonl', 'events-20261126-010000.jsonl']);
    expect(lines(files()[0]!)).toHaveLength(2);
  });

  it('counts what it cannot queue instead of blocking', () => {
    const errors: Array<[string, number]> = [];
    const sink = createJsonlFileSink({
      dir,
      clock: new ManualClock(),
      maxPending: 2,
      onError: (r, n) => errors.push([r, n]),
    });
    for (let i = 0; i < 5; i++) sink.listener(event(i));
    sink.close();
    expect(sink.stats()).toMatchObject({ written: 2, dropped: 3 });
    expect(errors).toEqual([
      ['queue full', 1],
      ['queue full', 1],
      ['queue full', 1],
    ]);
  });

  it('receives the events of real traffic through the gateway', async () => {
    const sink = createJsonlFileSink({ dir, clock: new ManualClock() });
    const h = await startHarness({ listeners: [sink.listener] });
    try {
      for (let i = 0; i < 3; i++)
        expect((await sendChat(h.baseURL, { model: 'gpt-4.1', stream: i === 1 })).status).toBe(200);
      const stored = await h.events();
      sink.close();
      const got = files()
        .flatMap(lines)
        .map((l) => JSON.parse(l) as AuditEvent);
      expect(got).toEqual(stored);
    } finally {
      await h.close();
    }
  });
});
