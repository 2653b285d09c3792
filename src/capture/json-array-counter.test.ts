import { describe, expect, it } from 'vitest';
import { TopLevelArrayCounter } from './json-array-counter.js';

/** Feeds `text` cut at every byte (and byte by byte) and checks each reading equals `want`. */
function countAtEveryCut(text: string, want: number | null): void {
  const bytes = Buffer.from(text);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const c = new TopLevelArrayCounter('data');
    c.push(bytes.subarray(0, cut));
    c.push(bytes.subarray(cut));
    expect(c.count, `cut at ${cut}`).toBe(want);
  }
  const one = new TopLevelArrayCounter('data');
  for (let i = 0; i < bytes.length; i++) one.push(bytes.subarray(i, i + 1));
  expect(one.count).toBe(want);
}

describe('TopLevelArrayCounter', () => {
  it('counts the top-level data array of an Images answer, at every byte cut', () => {
    const body = JSON.stringify({
      created: 1,
      data: [
        { b64_json: 'QUJD/+==', revised_prompt: 'a "fox", [1,2] {x} \\ data: [' },
        { url: 'https://x/y?a=1,b=2', revised_prompt: 'é ü 日本 🦊' },
        { b64_json: '' },
      ],
      usage: { input_tokens: 3 },
    });
    countAtEveryCut(body, 3);
  });

  it('ignores a data key that is not at the top level, and a string value "data"', () => {
    countAtEveryCut('{"object":"data","meta":{"data":[1,2,3,4]},"data" : [ {"data":[9,9]} , "x" ]}', 2);
    countAtEveryCut('{"meta":{"data":[1,2]}}', null);
  });

  it('counts an empty array as 0 and whitespace anywhere', () => {
    countAtEveryCut('{ "data" :\n [ ] }', 0);
    countAtEveryCut('{"data":[\n  {"a":1}\n]}', 1);
  });

  it('has no count before the array closed (a body cut off)', () => {
    const c = new TopLevelArrayCounter('data');
    c.push(Buffer.from('{"data":[{"b64_json":"AAAA"},{"b64_json":"BB'));
    expect(c.count).toBeNull();
  });
});
