import { describe, expect, it } from 'vitest';
import { eventHash } from '../../src/integrity/canonical-json.js';
import { GENESIS_PREV_HASH, createChainer, hasValidHash } from '../../src/integrity/hash-chain.js';
import { sampleEvent } from './sample-events.js';

describe('hash chain', () => {
  it('numbers events from 1 without gaps and links each to the previous hash', () => {
    const chainer = createChainer({ chainId: 'gw-1' });
    expect(chainer.head()).toEqual({ seq: 0, hash: GENESIS_PREV_HASH });
    const events = Array.from({ length: 5 }, (_, i) => sampleEvent(i));
    for (const e of events) chainer.link(e);
    events.forEach((e, i) => {
      expect(e.chain_id).toBe('gw-1');
      expect(e.seq).toBe(i + 1);
      expect(e.prev_hash).toBe(i === 0 ? GENESIS_PREV_HASH : events[i - 1]!.hash);
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(e.hash).toBe(eventHash(e));
      expect(hasValidHash(e)).toBe(true);
    });
    expect(chainer.head()).toEqual({ seq: 5, hash: events[4]!.hash });
    expect(GENESIS_PREV_HASH).toBe('0'.repeat(64));
  });

  it('resumes from a stored head exactly as if it had never stopped', () => {
    const a = createChainer({ chainId: 'c' });
    const straight = Array.from({ length: 6 }, (_, i) => sampleEvent(i));
    straight.forEach((e) => a.link(e));
    const b1 = createChainer({ chainId: 'c' });
    const resumed = Array.from({ length: 6 }, (_, i) => sampleEvent(i));
    resumed.slice(0, 3).forEach((e) => b1.link(e));
    const b2 = createChainer({ chainId: 'c', head: b1.head() });
    resumed.slice(3).forEach((e) => b2.link(e));
    expect(resumed.map((e) => e.hash)).toEqual(straight.map((e) => e.hash));
  });

  it('refuses an impossible head', () => {
    expect(() => createChainer({ chainId: 'c', head: { seq: 3, hash: 'nothex' } })).toThrow(
      /TG_ERR_INTEGRITY_CHAIN_STATE/,
    );
    expect(() => createChainer({ chainId: 'c', head: { seq: -1, hash: GENESIS_PREV_HASH } })).toThrow(
      /TG_ERR_INTEGRITY_CHAIN_STATE/,
    );
    expect(() => createChainer({ chainId: '' })).toThrow(/TG_ERR_INTEGRITY_CHAIN_STATE/);
  });

  it('detects a change to any event after linking', () => {
    const c = createChainer({ chainId: 'c' });
    const e = sampleEvent(9);
    c.link(e);
    e.cost_micro_usd = 1;
    expect(hasValidHash(e)).toBe(false);
  });
});
