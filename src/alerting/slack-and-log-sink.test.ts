import { describe, expect, it } from 'vitest';
import { sampleAlert } from './alert-store.contract.js';
import { createLogSink } from './log-sink.js';
import type { FetchLike } from './post-json.js';
import { createSlackSink } from './slack-sink.js';

describe('slack sink', () => {
  it('posts {text, blocks} with the summary and figures, escaped', async () => {
    const calls: { url: string; body: string }[] = [];
    const fetch: FetchLike = async (url, init) => {
      calls.push({ url, body: init.body });
      return { status: 200, arrayBuffer: async () => new ArrayBuffer(0) };
    };
    const sink = createSlackSink({ url: 'https://hooks.example.test/T/B/X', fetch });
    const alert = sampleAlert({ title: 'Spike <b>&</b>' });
    expect(await sink.send(alert, 'escalated')).toEqual({ ok: true });
    const body = JSON.parse(calls[0]!.body);
    expect(body.text).toBe(
      'ESCALATED [HIGH] auth.repeated-failures ip 203.0.113.7 — Spike &lt;b&gt;&amp;&lt;/b&gt;',
    );
    expect(body.blocks).toHaveLength(3);
    expect(JSON.stringify(body.blocks)).toContain('threshold 5');
  });

  it('says RESOLVED when the incident is over', async () => {
    const calls: string[] = [];
    const fetch: FetchLike = async (_url, init) => {
      calls.push(init.body);
      return { status: 200, arrayBuffer: async () => new ArrayBuffer(0) };
    };
    await createSlackSink({ url: 'https://hooks.example.test/T/B/X', fetch }).send(sampleAlert(), 'resolved');
    expect(JSON.parse(calls[0]!).text).toMatch(/^RESOLVED \[HIGH\] auth\.repeated-failures /);
  });

  it('reports a 429 as retryable', async () => {
    const fetch: FetchLike = async () => ({ status: 429, arrayBuffer: async () => new ArrayBuffer(0) });
    expect(await createSlackSink({ url: 'https://x.test', fetch }).send(sampleAlert(), 'new')).toEqual({
      ok: false,
      reason: 'http_429',
      retryable: true,
    });
  });
});

describe('log sink', () => {
  it('writes one line per alert, text or JSON', async () => {
    const lines: string[] = [];
    await createLogSink({ write: (l) => lines.push(l) }).send(sampleAlert({ count: 3 }), 'updated');
    await createLogSink({ write: (l) => lines.push(l), format: 'json' }).send(sampleAlert(), 'new');
    expect(lines[0]).toBe(
      '[HIGH] auth.repeated-failures ip 203.0.113.7 — Repeated failed authentication from ip 203.0.113.7 (x3)',
    );
    expect(JSON.parse(lines[1]!)).toMatchObject({
      change: 'new',
      alert: { rule_id: 'auth.repeated-failures' },
    });
  });
});
