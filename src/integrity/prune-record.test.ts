import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { createFieldCleaner } from '../redaction/field-cleaning.js';
import {
  CONTENT_PRUNE_RECORD_ACTION,
  HashListRoot,
  PRUNE_RECORD_ACTION,
  formatContentPruneBody,
  formatPruneBody,
  parseContentPruneRecord,
  parsePruneRecord,
  pruneRecordEvent,
  signRecordBody,
  type PruneStatement,
} from './prune-record.js';
import { generateSigningKey } from './signing-key.js';
import { rootFromLeafHashes, hashLeaf } from './merkle.js';

const h = (c: string): string => c.repeat(64);

const statement: PruneStatement = {
  chain_id: 'gw 1/é',
  first_seq: 1,
  last_seq: 1000,
  count: 990,
  kept: 10,
  tree_root: h('a'),
  pruned_root: h('b'),
  kept_root: h('c'),
  last_hash: h('d'),
  policy: 'events:400d',
  cutoff: '2026-01-01T00:00:00.000Z',
  at: '2027-02-05T00:00:00.000Z',
};

describe('prune records', () => {
  const key = generateSigningKey('tollgate-gw-1');
  const clock = new ManualClock();

  it('round-trips a signed events prune record, through the field cleaner too', () => {
    const e = pruneRecordEvent(PRUNE_RECORD_ACTION, signRecordBody(formatPruneBody(statement), key), clock);
    e.chain_id = 'gw-1';
    e.seq = 1200;
    for (const cleaner of [createFieldCleaner(), createFieldCleaner({ mode: 'none' })]) {
      const copy = { ...e };
      cleaner.clean(copy);
      const parsed = parsePruneRecord(copy, [key.verifier()]);
      expect(parsed).toEqual({
        ok: true,
        record: {
          ...statement,
          record_chain_id: 'gw-1',
          record_seq: 1200,
          record_event_id: e.id,
          signer: 'tollgate-gw-1',
        },
      });
    }
    expect(e.error_message!.length).toBeLessThan(1024);
  });

  it('refuses a record signed by another key, a changed one, and a malformed one', () => {
    const e = pruneRecordEvent(PRUNE_RECORD_ACTION, signRecordBody(formatPruneBody(statement), key), clock);
    const other = generateSigningKey('tollgate-gw-1');
    expect(parsePruneRecord(e, [other.verifier()])).toMatchObject({
      ok: false,
      why: expect.stringContaining('not a trusted key'),
    });
    const changed = { ...e, error_message: e.error_message!.replace('count=990', 'count=991') };
    expect(parsePruneRecord(changed, [key.verifier()])).toEqual({
      ok: false,
      why: 'its signature does not verify',
    });
    const unsigned = { ...e, error_message: formatPruneBody(statement) };
    expect(parsePruneRecord(unsigned, [key.verifier()])).toEqual({ ok: false, why: 'unsigned' });
    const bad = { ...statement, count: 1000 };
    const tooMany = pruneRecordEvent(PRUNE_RECORD_ACTION, signRecordBody(formatPruneBody(bad), key), clock);
    expect(parsePruneRecord(tooMany, [key.verifier()])).toEqual({ ok: false, why: 'malformed' });
  });

  it('round-trips a content prune record', () => {
    const s = {
      chain_id: 'gw-1',
      first_seq: 5,
      last_seq: 80,
      count: 70,
      pruned_root: h('e'),
      policy: 'content:30d',
      cutoff: statement.cutoff,
      at: statement.at,
    };
    const e = pruneRecordEvent(
      CONTENT_PRUNE_RECORD_ACTION,
      signRecordBody(formatContentPruneBody(s), key),
      clock,
    );
    const parsed = parseContentPruneRecord(e, [key.verifier()]);
    expect(parsed.ok && parsed.record).toMatchObject(s);
  });

  it('HashListRoot is the RFC 6962 root over the hashes as leaf data', () => {
    const hashes = ['1', '2', '3', '4', '5'].map(h);
    const r = new HashListRoot();
    for (const x of hashes) r.add(x);
    expect(r.root()).toBe(
      rootFromLeafHashes(hashes.map((x) => hashLeaf(Buffer.from(x, 'hex')))).toString('hex'),
    );
  });
});
