/**
 * 1,000 random tamperings per store, each applied to a freshly populated copy of the same chain
 * by someone with direct access to the storage (array surgery for the memory store, raw SQL for
 * SQLite). verify must name the right kind of damage and the right first bad event, every time.
 */
import { seededRandom } from '../../src/core/seeded-random.js';
import Database from 'better-sqlite3';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { AUDIT_EVENT_FIELDS } from '../../src/core/audit-event.js';
import { ManualClock } from '../../src/core/clock.js';
import { openCheckpoint, signCheckpoint } from '../../src/integrity/checkpoint.js';
import { CheckpointWriter } from '../../src/integrity/checkpoint-writer.js';
import type { CheckpointStore, StoredCheckpoint } from '../../src/store/checkpoint-store.js';
import { GENESIS_PREV_HASH, createChainer } from '../../src/integrity/hash-chain.js';
import { MemoryCheckpointStore } from '../../src/integrity/memory-checkpoint-store.js';
import { generateSigningKey, type SigningKey } from '../../src/integrity/signing-key.js';
import { verifyChains, type DamageKind, type VerifyReport } from '../../src/integrity/verify.js';
import type { EventStore } from '../../src/store/event-store.js';
import { MemoryEventStore } from '../../src/store/memory/memory-event-store.js';
import { SqliteCheckpointStore } from '../../src/store/sqlite/sqlite-checkpoints.js';
import { SqliteEventStore, fromRow } from '../../src/store/sqlite/sqlite-event-store.js';
import { populate, RecordingWitness } from './populate.js';
import { sampleEvent } from './sample-events.js';

const CHAIN = 'gw-1';
const N = 120;
const EVERY = 20;
const RUNS = 1000;

/** Deterministic, so a failing run can be replayed from its seed. */
const prng = seededRandom;

/** Raw, unchecked access to the stored rows, as an attacker with the database file has. */
interface RawAccess {
  events: EventStore;
  checkpoints: CheckpointStore;
  /** Rows of the chain in seq order, as stored. */
  rows(): AuditEvent[];
  update(seq: number, id: string, change: Partial<AuditEvent>): void;
  deleteBySeq(fromSeq: number, toSeq: number): void;
  insert(e: AuditEvent): void;
  /** Gives the row with id `a` seq `sb` and the row with id `b` seq `sa`. */
  swapSeq(aId: string, bId: string): void;
  checkpointRows(): StoredCheckpoint[];
  replaceCheckpointNote(index: number, note: string): void;
  deleteCheckpoint(index: number): void;
}

interface Pristine {
  events: AuditEvent[];
  checkpoints: StoredCheckpoint[];
  witness: StoredCheckpoint[];
  key: SigningKey;
}

async function makePristine(): Promise<Pristine> {
  const key = generateSigningKey('tollgate-gw-1');
  const store = new MemoryEventStore();
  const checkpoints = new MemoryCheckpointStore();
  const witness = new RecordingWitness();
  const events = await populate({
    store,
    checkpoints,
    key,
    chainId: CHAIN,
    n: N,
    everyEvents: EVERY,
    batch: 10,
    witness,
  });
  return { events, checkpoints: await checkpoints.list(CHAIN), witness: witness.received, key };
}

async function memoryCopy(p: Pristine): Promise<RawAccess> {
  const events = new MemoryEventStore();
  const checkpoints = new MemoryCheckpointStore();
  await events.append(p.events);
  for (const c of p.checkpoints) await checkpoints.append(c);
  const rows = events.unsafeRows();
  const cps = checkpoints.unsafeRows();
  return {
    events,
    checkpoints,
    rows: () => [...rows].sort((a, b) => a.seq! - b.seq!),
    update: (_seq, id, change) => {
      Object.assign(
        rows.find((r) => r.id === id)!,
        change,
      );
      events.unsafeReindex();
    },
    deleteBySeq: (from, to) => {
      const keep = rows.filter((r) => r.seq! < from || r.seq! > to);
      rows.splice(0, rows.length, ...keep);
      events.unsafeReindex();
    },
    insert: (e) => {
      rows.push({ ...e });
      events.unsafeReindex();
    },
    swapSeq: (a, b) => {
      const ra = rows.find((r) => r.id === a)!;
      const rb = rows.find((r) => r.id === b)!;
      [ra.seq, rb.seq] = [rb.seq, ra.seq];
    },
    checkpointRows: () => cps,
    replaceCheckpointNote: (i, note) => {
      cps[i]!.note = note;
    },
    deleteCheckpoint: (i) => {
      cps.splice(i, 1);
    },
  };
}

const JSON_COLUMNS = new Set(['redactions', 'threat_indicators']);
const BOOL_COLUMNS = new Set(['stream', 'is_anomalous']);

function sqlValue(field: string, v: unknown): unknown {
  if (JSON_COLUMNS.has(field)) return JSON.stringify(v);
  if (BOOL_COLUMNS.has(field)) return v === null ? null : v ? 1 : 0;
  return v;
}

async function sqliteCopy(p: Pristine): Promise<RawAccess> {
  const db = new Database(':memory:');
  const events = new SqliteEventStore(db);
  const checkpoints = new SqliteCheckpointStore(db);
  await events.append(p.events);
  for (const c of p.checkpoints) await checkpoints.append(c);
  // The attacker drops the uniqueness index that would stop duplicate or exchanged seqs.
  db.exec('DROP INDEX IF EXISTS events_chain_seq');
  const cpIds = (): number[] =>
    (db.prepare('SELECT id FROM checkpoints ORDER BY id').all() as { id: number }[]).map((r) => r.id);
  return {
    events,
    checkpoints,
    rows: () =>
      (
        db.prepare('SELECT * FROM events WHERE chain_id = ? ORDER BY seq, rowid_').all(CHAIN) as Record<
          string,
          unknown
        >[]
      ).map(fromRow),
    update: (_seq, id, change) => {
      for (const [f, v] of Object.entries(change)) {
        if (!AUDIT_EVENT_FIELDS.includes(f as keyof AuditEvent)) throw new Error(`not a column: ${f}`);
        db.prepare(`UPDATE events SET ${f} = ? WHERE id = ?`).run(sqlValue(f, v), id);
      }
    },
    deleteBySeq: (from, to) => {
      db.prepare('DELETE FROM events WHERE chain_id = ? AND seq BETWEEN ? AND ?').run(CHAIN, from, to);
    },
    insert: (e) => {
      db.prepare(
        `INSERT INTO events (ts_ms, ${AUDIT_EVENT_FIELDS.join(', ')}) VALUES (?, ${AUDIT_EVENT_FIELDS.map(() => '?').join(', ')})`,
      ).run(Date.parse(e.timestamp), ...AUDIT_EVENT_FIELDS.map((f) => sqlValue(f, e[f])));
    },
    swapSeq: (a, b) => {
      const sa = (db.prepare('SELECT seq FROM events WHERE id = ?').get(a) as { seq: number }).seq;
      const sb = (db.prepare('SELECT seq FROM events WHERE id = ?').get(b) as { seq: number }).seq;
      db.prepare('UPDATE events SET seq = ? WHERE id = ?').run(sb, a);
      db.prepare('UPDATE events SET seq = ? WHERE id = ?').run(sa, b);
    },
    checkpointRows: () =>
      db
        .prepare('SELECT chain_id, tree_size, created_ms, note, frontier FROM checkpoints ORDER BY id')
        .all() as StoredCheckpoint[],
    replaceCheckpointNote: (i, note) => {
      db.prepare('UPDATE checkpoints SET note = ? WHERE id = ?').run(note, cpIds()[i]!);
    },
    deleteCheckpoint: (i) => {
      db.prepare('DELETE FROM checkpoints WHERE id = ?').run(cpIds()[i]!);
    },
  };
}

/** A changed value of the same field: a flipped character, a nudged number, a negated flag… */
function alter(field: string, v: unknown, rnd: () => number): unknown {
  if (typeof v === 'string') {
    const i = Math.floor(rnd() * v.length);
    if (v.length === 0) return 'x';
    const c = v.charCodeAt(i);
    let d = c ^ (1 << Math.floor(rnd() * 5));
    if (d === c || d < 0x20) d = c === 0x61 ? 0x62 : 0x61;
    return v.slice(0, i) + String.fromCharCode(d) + v.slice(i + 1);
  }
  if (typeof v === 'number')
    return field === 'seq' ? v + 1 + Math.floor(rnd() * 5) * (rnd() < 0.5 ? -1 : 1) || v + 1 : v + 1;
  if (typeof v === 'boolean') return !v;
  if (v === null) return field === 'stream' || field === 'is_anomalous' ? true : 0;
  if (Array.isArray(v)) {
    if (field === 'redactions')
      return v.length
        ? [{ ...(v[0] as object), count: ((v[0] as { count: number }).count ?? 0) + 1 }, ...v.slice(1)]
        : [{ type: 'email', count: 1 }];
    return [...(v as string[]), 'rule.x'];
  }
  return 'x';
}

interface Expectation {
  kind: DamageKind;
  /** Acceptable positions of the first bad event (null for checkpoint damage). */
  seqs: (number | null)[];
  eventId?: string | null;
  checkpointSize?: number;
  witness?: boolean;
  label: string;
}

async function tamper(raw: RawAccess, p: Pristine, rnd: () => number): Promise<Expectation> {
  const rows = raw.rows();
  const pick = (n: number): number => Math.floor(rnd() * n);
  const kinds = [
    'flip',
    'delete',
    'insert',
    'swap',
    'truncate',
    'replace_checkpoint',
    'resign',
    'delete_checkpoint',
  ] as const;
  const kind = kinds[pick(kinds.length)]!;
  switch (kind) {
    case 'flip': {
      const k = pick(rows.length);
      const row = { ...rows[k]! };
      const field = AUDIT_EVENT_FIELDS[pick(AUDIT_EVENT_FIELDS.length)]!;
      let value = alter(field, row[field], rnd);
      if (field === 'seq' && (value as number) < 1) value = (row.seq as number) + 2;
      if (field === 'chain_id') value = `${CHAIN}-forked`;
      raw.update(row.seq!, row.id, { [field]: value });
      const id = field === 'id' ? (value as string) : row.id;
      // A lowered seq makes the row show up (as extra) where its new seq puts it.
      // (before or after the event that rightly has that seq: storage order decides).
      const seqs =
        field === 'seq' && (value as number) < row.seq! ? [value as number, (value as number) + 1] : [k + 1];
      return { kind: 'modified', seqs, eventId: id, label: `flip ${field} of seq ${k + 1}` };
    }
    case 'delete': {
      const k = pick(rows.length);
      raw.deleteBySeq(k + 1, k + 1);
      if (k === rows.length - 1)
        return { kind: 'truncated', seqs: [k + 1], eventId: null, label: `delete last seq ${k + 1}` };
      return { kind: 'deleted', seqs: [k + 1], eventId: rows[k + 1]!.id, label: `delete seq ${k + 1}` };
    }
    case 'insert': {
      // A forged event with a correct hash, claiming an existing position and linking to its predecessor.
      const k = 1 + pick(rows.length);
      const head = k === 1 ? { seq: 0, hash: GENESIS_PREV_HASH } : { seq: k - 1, hash: rows[k - 2]!.hash! };
      const forged = sampleEvent(100_000 + pick(1_000_000));
      forged.user_id = 'mallory';
      createChainer({ chainId: CHAIN, head }).link(forged);
      raw.insert(forged);
      return { kind: 'inserted', seqs: [k, k + 1], eventId: forged.id, label: `insert forged at seq ${k}` };
    }
    case 'swap': {
      const i = pick(rows.length - 1);
      const j = i + 1 + pick(rows.length - 1 - i);
      raw.swapSeq(rows[i]!.id, rows[j]!.id);
      return {
        kind: 'reordered',
        seqs: [i + 1],
        eventId: rows[j]!.id,
        label: `swap seq ${i + 1} and ${j + 1}`,
      };
    }
    case 'truncate': {
      const k = pick(rows.length);
      raw.deleteBySeq(k + 1, rows.length);
      return { kind: 'truncated', seqs: [k + 1], eventId: null, label: `truncate from seq ${k + 1}` };
    }
    case 'replace_checkpoint': {
      const cps = raw.checkpointRows();
      const i = pick(cps.length);
      const lines = cps[i]!.note.split('\n');
      // Keep the signature, change the signed body: a different root (or size).
      if (rnd() < 0.5) lines[2] = Buffer.alloc(32, pick(256)).toString('base64');
      else lines[1] = String(Number(lines[1]) + 1 + pick(5));
      raw.replaceCheckpointNote(i, lines.join('\n'));
      const size = Number(lines[1]);
      return {
        kind: 'checkpoint_forged',
        seqs: [null],
        checkpointSize: size,
        label: `replace checkpoint ${cps[i]!.tree_size}`,
      };
    }
    case 'resign': {
      const cps = raw.checkpointRows();
      const i = pick(cps.length);
      const opened = openCheckpoint(cps[i]!.note, [p.key.verifier()]);
      if (!opened.ok) throw new Error('pristine checkpoint does not open');
      const attacker = generateSigningKey(rnd() < 0.5 ? 'tollgate-gw-1' : 'mallory');
      const root = rnd() < 0.5 ? opened.checkpoint.rootHash : Buffer.alloc(32, 0xee);
      raw.replaceCheckpointNote(i, signCheckpoint({ ...opened.checkpoint, rootHash: root }, [attacker]));
      return {
        kind: 'checkpoint_forged',
        seqs: [null],
        checkpointSize: opened.checkpoint.treeSize,
        label: `re-sign checkpoint ${opened.checkpoint.treeSize}`,
      };
    }
    case 'delete_checkpoint': {
      const cps = raw.checkpointRows();
      const i = pick(cps.length);
      const size = cps[i]!.tree_size;
      raw.deleteCheckpoint(i);
      return {
        kind: 'checkpoint_missing',
        seqs: [null],
        checkpointSize: size,
        witness: true,
        label: `delete checkpoint ${size}`,
      };
    }
  }
}

function check(report: VerifyReport, exp: Expectation, context: string): void {
  expect(report.ok, context).toBe(false);
  const chain = report.chains.find((c) => c.chain_id === CHAIN);
  const d = chain?.damage;
  expect(d, context).toBeTruthy();
  expect(d!.kind, context).toBe(exp.kind);
  expect(exp.seqs, `${context}: seq ${d!.seq}`).toContain(d!.seq);
  if (exp.eventId !== undefined) expect(d!.event_id, context).toBe(exp.eventId);
  if (exp.checkpointSize !== undefined) expect(d!.checkpoint_size, context).toBe(exp.checkpointSize);
}

function runSuite(name: string, copy: (p: Pristine) => Promise<RawAccess>): void {
  describe(`tamper evidence on the ${name} store`, () => {
    it('verifies an untouched store clean, with and without the witness', async () => {
      const p = await makePristine();
      const raw = await copy(p);
      const keys = [p.key.verifier()];
      expect((await verifyChains(raw.events, raw.checkpoints, keys)).ok).toBe(true);
      const withWitness = await verifyChains(raw.events, raw.checkpoints, keys, { witnessNotes: p.witness });
      expect(withWitness.ok).toBe(true);
      expect(withWitness.chains[0]!.checkpoints_checked).toBe(2 * p.checkpoints.length);
    });

    it(`detects ${RUNS} random tamperings with the right kind and first bad event`, async () => {
      const p = await makePristine();
      const keys = [p.key.verifier()];
      const seen = new Map<string, number>();
      for (let run = 0; run < RUNS; run++) {
        const seed = 0x5eed0000 + run;
        const raw = await copy(p);
        const exp = await tamper(raw, p, prng(seed));
        const report = await verifyChains(
          raw.events,
          raw.checkpoints,
          keys,
          exp.witness ? { witnessNotes: p.witness } : {},
        );
        check(report, exp, `seed ${seed}: ${exp.label}`);
        seen.set(exp.kind, (seen.get(exp.kind) ?? 0) + 1);
      }
      // Every kind of damage was exercised.
      expect([...seen.keys()].sort()).toEqual([
        'checkpoint_forged',
        'checkpoint_missing',
        'deleted',
        'inserted',
        'modified',
        'reordered',
        'truncated',
      ]);
    }, 240_000);

    it('stays clean when only a data key is destroyed (crypto-shredding leaves rows untouched)', async () => {
      // Content is stored encrypted under a per-user data key kept outside the event rows;
      // erasure destroys that key. The rows, and so the chain, do not change.
      const key = generateSigningKey('tollgate-gw-1');
      const dataKeys = new Map<string, Buffer>();
      const seal = (user: string, text: string): string => {
        let k = dataKeys.get(user);
        if (!k) dataKeys.set(user, (k = randomBytes(32)));
        const iv = randomBytes(12);
        const c = createCipheriv('aes-256-gcm', k, iv);
        const body = Buffer.concat([c.update(text, 'utf8'), c.final()]);
        return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
      };
      const open = (user: string, sealed: string): string | null => {
        const k = dataKeys.get(user);
        if (!k) return null;
        const raw = Buffer.from(sealed, 'base64');
        const d = createDecipheriv('aes-256-gcm', k, raw.subarray(0, 12));
        d.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
      };
      const chainer = createChainer({ chainId: CHAIN });
      const events = Array.from({ length: 40 }, (_, i) => {
        const e = sampleEvent(i);
        e.content_mode = 'encrypted';
        e.prompt = seal(e.user_id!, `prompt ${i}`);
        e.response = seal(e.user_id!, `response ${i}`);
        chainer.link(e);
        return e;
      });
      const mem = new MemoryEventStore();
      const cps = new MemoryCheckpointStore();
      await mem.append(events);
      const writer = CheckpointWriter.forNewChain({
        chainId: CHAIN,
        key,
        store: cps,
        clock: new ManualClock(),
        everyEvents: 10,
      });
      writer.recordWritten(events);
      await writer.close();
      const raw = await copy({
        events: await rowsOf(mem),
        checkpoints: await cps.list(CHAIN),
        witness: [],
        key,
      });
      const victim = events[3]!.user_id!;
      const before = JSON.stringify(raw.rows());
      expect(open(victim, raw.rows()[3]!.prompt!)).toBe('prompt 3');
      dataKeys.delete(victim); // tollgate erase --user: destroy the key, touch no row
      expect(open(victim, raw.rows()[3]!.prompt!)).toBeNull();
      expect(JSON.stringify(raw.rows())).toBe(before);
      expect((await verifyChains(raw.events, raw.checkpoints, [key.verifier()])).ok).toBe(true);
    });
  });
}

async function rowsOf(store: EventStore): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for await (const e of store.iterateChain(CHAIN)) out.push(e);
  return out;
}

runSuite('memory', memoryCopy);
runSuite('SQLite', sqliteCopy);
