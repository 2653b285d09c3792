import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, progressText } from './progress.js';

function sink(isTTY: boolean): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  let out = '';
  const stream = Object.assign(
    new Writable({ write: (c: Buffer, _e, cb) => ((out += c.toString()), cb()) }),
    { isTTY },
  );
  return { stream, text: () => out };
}

describe('progress line', () => {
  it('draws on a TTY at most every everyMs, then clears and prints the result', () => {
    const s = sink(true);
    let t = 0;
    const p = createProgress(s.stream, { label: 'verifying chain gw', now: () => t, everyMs: 100 });
    p.update(10, 40);
    t = 50;
    p.update(20, 40); // too soon: not drawn
    t = 150;
    p.update(30, 40);
    p.end('done');
    expect(s.text()).toBe(
      '\rverifying chain gw: 10 / 40 events (25 %)\u001b[K' +
        '\rverifying chain gw: 30 / 40 events (75 %)\u001b[K' +
        '\r\u001b[Kdone\n',
    );
  });

  it('writes nothing to a pipe or file', () => {
    const s = sink(false);
    const p = createProgress(s.stream, { label: 'exported', now: () => 0 });
    p.update(5);
    p.end();
    expect(s.text()).toBe('');
  });

  it('text with and without a total', () => {
    expect(progressText('exported', 12_000, null, 'events')).toBe('exported: 12,000 events');
    expect(progressText('pruned', 3, 3, 'events')).toBe('pruned: 3 / 3 events (100 %)');
  });
});
