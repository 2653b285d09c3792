import { describe, expect, it } from 'vitest';
import { writerGapEvent } from '../../src/integrity/gap-event.js';
import { ManualClock } from '../../src/core/clock.js';
import {
  LOST_LEAF,
  formatGapMessage,
  matchHoles,
  parseGapRecord,
  type GapRange,
  type GapRecord,
} from '../../src/integrity/gap-record.js';
import { createChainer } from '../../src/integrity/hash-chain.js';
import { CompactRange, EventLeafHasher } from '../../src/integrity/merkle.js';

const H = (c: string): string => c.repeat(64);

function range(over: Partial<GapRange> = {}): GapRange {
  return {
    chain_id: 'gw-1',
    first_seq: 5,
    last_seq: 9,
    count: 5,
    reason: 'spool_full',
    at: '2026-01-01T00:00:00.000Z',
    last_hash: H('b'),
    ...over,
  };
}

function record(first: number, last: number, recordSeq: number, lastHash = H('b')): GapRecord {
  return {
    ...range({ first_seq: first, last_seq: last, count: last - first + 1, last_hash: lastHash }),
    record_seq: recordSeq,
    record_event_id: `r${recordSeq}`,
  };
}

describe('gap records', () => {
  it('CompactRange.appendRepeated gives the same tree as appending the leaf one by one', () => {
    const hasher = new EventLeafHasher();
    for (let start = 0; start <= 20; start++) {
      for (const n of [0, 1, 2, 3, 5, 8, 13, 31, 64, 100]) {
        const a = new CompactRange();
        const b = new CompactRange();
        for (let i = 0; i < start; i++) {
          const leaf = hasher.hash(i.toString(16).padStart(64, '0'));
          a.append(leaf);
          b.append(leaf);
        }
        for (let i = 0; i < n; i++) a.append(LOST_LEAF);
        b.appendRepeated(LOST_LEAF, n);
        expect(b.size).toBe(start + n);
        expect(b.root().equals(a.root()), `start ${start}, n ${n}`).toBe(true);
        expect(b.frontier()).toEqual(a.frontier());
      }
    }
  });

  it('the record event carries the range in error_message, and parses back only from a well-formed record of its chain', () => {
    const g = range({ chain_id: 'gw 1/ä' });
    const e = writerGapEvent(g, new ManualClock());
    expect(e.error_message).toBe(formatGapMessage(g));
    createChainer({ chainId: 'gw 1/ä', head: { seq: 9, hash: H('b') } }).link(e);
    expect(parseGapRecord(e)).toEqual({ ...g, record_seq: 10, record_event_id: e.id });
    // Admin method and endpoint both required; the count must match; the range must end before the record.
    expect(parseGapRecord({ ...e, http_method: 'POST' })).toBeNull();
    expect(
      parseGapRecord({ ...e, error_message: e.error_message!.replace('count=5', 'count=4') }),
    ).toBeNull();
    expect(parseGapRecord({ ...e, seq: 9 })).toBeNull();
    expect(parseGapRecord({ ...e, chain_id: 'other' })).toBeNull();
    expect(parseGapRecord({ ...e, error_message: `${e.error_message!} ` })).toBeNull();
  });

  it('a hole is accounted only when records tile it exactly and the next event links to the last recorded hash', () => {
    const hole = { first_seq: 5, last_seq: 12, next_prev_hash: H('c') };
    // Two records (the first gap record was itself lost, so a second gap followed).
    expect(matchHoles([hole], [record(5, 9, 14, H('b')), record(10, 12, 15, H('c'))])).toMatchObject({
      accounted: [{ hole }],
      unaccounted: [],
      orphans: [],
    });
    // The same record twice counts once.
    expect(
      matchHoles([{ ...hole, last_seq: 9, next_prev_hash: H('b') }], [record(5, 9, 14), record(5, 9, 20)])
        .accounted,
    ).toHaveLength(1);
    // Not tiled, or tiled but not linked.
    expect(matchHoles([hole], [record(5, 9, 14)]).unaccounted).toEqual([
      { hole, covered_to: 9, why: 'gap records account for events 5..9 only' },
    ]);
    expect(matchHoles([hole], [record(5, 12, 14, H('d'))]).unaccounted[0]).toMatchObject({
      covered_to: null,
      why: expect.stringMatching(/does not link/),
    });
    expect(matchHoles([hole], [record(6, 12, 14, H('c'))]).unaccounted[0]).toMatchObject({
      covered_to: null,
      why: expect.stringMatching(/names events 6\.\.12 only/),
    });
    // A record for events that are not missing.
    expect(matchHoles([], [record(5, 9, 14)]).orphans).toHaveLength(1);
  });
});
