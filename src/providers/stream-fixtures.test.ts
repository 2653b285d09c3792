import { describe, expect, it } from 'vitest';
import { recordMockStreams } from '../../test/fixtures/streams/mock-recordings.js';
import { cutBeforeLastEvent, FIXTURES } from '../../test/fixtures/streams/provider-apis.js';
import { SseAssembler, streamBrokeOff, type AssembledStream } from '../capture/sse-assembler.js';
import { relayStreamChunk } from '../capture/stream-relay.js';
import { apiForEndpoint } from './registry.js';

/** Feeds `bytes` cut at `cuts` through the relay the gateway and the SDK use. */
function replay(
  endpoint: string,
  bytes: Buffer,
  cuts: number[],
): { result: AssembledStream; forwarded: Buffer } {
  const a = new SseAssembler(apiForEndpoint(endpoint));
  const decoder = new TextDecoder('utf-8');
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    const o = relayStreamChunk(a, decoder, bytes.subarray(at, cut), false);
    if (o !== null) out.push(typeof o === 'string' ? Buffer.from(o) : o);
    at = cut;
  }
  a.push(decoder.decode());
  return { result: a.finish(), forwarded: Buffer.concat(out) };
}

// The hand-written fixtures, and the same cases recorded from the mock provider (tool use, thinking).
const STREAMS = { ...FIXTURES, ...(await recordMockStreams()) };

describe.each(Object.entries(STREAMS))('recorded stream: %s', (_name, f) => {
  const bytes = Buffer.from(f.stream);

  it('reads usage, model, finish reason, output, first token and end as published', () => {
    const { result } = replay(f.endpoint, bytes, []);
    expect(result.text).toBe(f.expected.text);
    expect(result.toolArguments).toBe(f.expected.toolArguments);
    expect(result.model).toBe(f.expected.model);
    expect(result.finishReason).toBe(f.expected.finishReason);
    if (f.expected.usage === null) expect(result.usage).toBeNull();
    else expect(result.usage).toMatchObject(f.expected.usage);
    expect(result.firstContentAt).toBe(f.expected.firstContentAt);
    expect(result.ended).toBe(f.expected.ended);
    expect(streamBrokeOff(result)).toBe(false);
    if (f.expected.errorCode !== undefined) expect(result.errorCode).toBe(f.expected.errorCode);
  });

  it('reads the same, and forwards identical bytes, at every byte cut point', () => {
    const whole = replay(f.endpoint, bytes, []).result;
    for (let cut = 1; cut < bytes.length; cut++) {
      const { result, forwarded } = replay(f.endpoint, bytes, [cut]);
      expect(result, `cut at ${cut}`).toEqual(whole);
      expect(forwarded.equals(bytes), `bytes at cut ${cut}`).toBe(true);
    }
    const oneByOne = replay(
      f.endpoint,
      bytes,
      Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
    );
    expect(oneByOne.result).toEqual(whole);
    expect(oneByOne.forwarded.equals(bytes)).toBe(true);
  });

  it('tells the cut-off twin from the whole stream', () => {
    const cut = Buffer.from(cutBeforeLastEvent(f.stream));
    const { result, forwarded } = replay(f.endpoint, cut, []);
    expect(result.ended).toBe(false);
    expect(streamBrokeOff(result)).toBe(true);
    expect(forwarded.equals(cut)).toBe(true);
  });
});
