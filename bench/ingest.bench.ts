/**
 * SQLite ingest rate as the gateway feeds it (issue 5: ≥ 50,000 events/s with rollups on).
 *
 * Events are made by the real pipeline (capture → redact in the default `redacted` content mode →
 * price → chain) from chat exchanges that look like production traffic: many users, sessions of
 * several requests whose prompt resends the conversation so far, varied text, streamed and JSON
 * answers, a few errors. They are written in batches of the writer's default size (512) through
 * SqliteEventStore (every column and index) opened by openSqlite (WAL, the store's pragmas),
 * and timed per mode, each into a fresh file:
 *   events   — the events insert alone;
 *   rollups  — applyRollups alone, in its own transaction per batch;
 *   both     — events and rollups in one transaction (the gateway's configuration);
 * and two baselines from the same run, so the numbers read against what this machine can do:
 *   floor    — each event as one text value (its JSON without the content, then the stored
 *              prompt and response: about the row's bytes) into a one-column table with no
 *              index: SQLite writing these bytes at all, with nothing of Tollgate's schema;
 *   noindex  — the events insert with only the indexes integrity needs (id, chain+seq), and no
 *              merges of the lookups (user, session, virtual key, feature, status; `events` and every
 *              later mode include them).
 * Then the gateway's own path, end to end:
 *   writer   — events handed to the EventWriter as fast as it takes them (the feeder keeps its
 *              queue below half of max_queue, so nothing spools), timed from the first event to
 *              the drained queue, batches formed by the writer (up to INGEST_BATCH), rollups on.
 *   outofline — the ceiling of content kept out of line (issue 22): the events insert with every
 *              index and the rollups, the row without its prompt and response, and the batch's
 *              content as one segment row (prompt and response of every event, uncompressed) in a
 *              side table, in the same transaction. No digest index, no compression: what moving
 *              the content out of the row can give at best;
 *   thread   — the same through the append thread (`writer.thread: true`, opt-in on
 *              SQLite): batches serialised once on the event loop, committed with rollups by a
 *              worker on its own connection; CPU counts both threads.
 * Only the write is timed; building events (and the floor's JSON) is not. Events/s = events /
 * summed write time.
 *
 * Where the time goes (issue 22), A/B variants in the same run (INGEST_MODES=breakdown runs them all
 * between two floors):
 *   events-no-<index> — the events insert with that one secondary index dropped (its cost is the
 *              difference with `events`);
 *   lean     — the events insert with every index, the row without its prompt and response, and
 *              the batch's content as one segment row (the content's share of the events insert);
 *   security, quota — the security rollups and the provider quota summary alone, own transaction;
 *   rollups-noindex — applyRollups with the rollup tables' secondary indexes dropped (session
 *              summaries by time span, cost, growth rank and inexactness; segments by session).
 * The cost and session rollups are `rollups` minus `security` and `quota`; the rows each rollup table
 * gets per event are printed first. Every mode prints CPU per event (both threads), and bytes written
 * per event (WAL and checkpoints, from /proc/self/io where it exists).
 *
 * INGEST_PAGE_SIZE=4096 writes files with that page size instead of the store default (A/B).
 * INGEST_PREFILL=N first fills the events table with N older events (copies of the first batch
 * with fresh ids, users, sessions and chains, made in SQL), so the indexes have a production
 * store's depth: an empty file flatters random index inserts (user, session), which on a store
 * of a million events touch pages that are no longer in cache. The floor is not prefilled (it
 * has no index).
 *
 * Run: npx tsx bench/ingest.bench.ts   (INGEST_EVENTS=200000, INGEST_MODES=floor,noindex,events,rollups,both,writer,
 *      INGEST_BATCH=512, INGEST_SESSIONS=20000 concurrent sessions, INGEST_USERS=5000)
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureEvent } from '../src/capture/capture.js';
import { newExchange } from '../src/capture/exchange.js';
import { newEventId } from '../src/core/ids.js';
import { createChainer } from '../src/integrity/hash-chain.js';
import { loadPriceCatalog } from '../src/pricing/catalog.js';
import { createPricer } from '../src/pricing/pricer.js';
import { createRedactor } from '../src/redaction/redactor.js';
import { systemClock } from '../src/core/clock.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../src/store/sqlite/sqlite-event-store.js';
import {
  createSqliteRollups,
  foldBatch,
  sessionDaysOf,
  sessionTotalsOf,
} from '../src/store/sqlite/sqlite-rollups.js';
import { createSqliteSecurityRollups } from '../src/store/sqlite/sqlite-security-rollups.js';
import { createSqliteProviderQuota } from '../src/store/sqlite/sqlite-provider-quota.js';
import { foldSecurity } from '../src/store/security-rollups.js';
import { EventWriter, type WriterStore } from '../src/writer/event-writer.js';
import { SqliteAppendThread } from '../src/store/sqlite/sqlite-append-thread.js';
import { AUDIT_EVENT_FIELDS, type AuditEvent } from '../src/core/audit-event.js';

const N = Number(process.env.INGEST_EVENTS ?? 200_000);
const PREFILL = Number(process.env.INGEST_PREFILL ?? 0);
/** Page size of the files written (default: the store's own, SQLITE_PAGE_SIZE), for A/B runs. */
const PAGE_SIZE = process.env.INGEST_PAGE_SIZE ? Number(process.env.INGEST_PAGE_SIZE) : null;
const BATCH = Number(process.env.INGEST_BATCH ?? 512);
const SESSIONS = Number(process.env.INGEST_SESSIONS ?? 20_000);
const USERS = Number(process.env.INGEST_USERS ?? 5_000);
/**
 * Secondary indexes of the events table (time-range scans use it). Users, sessions, virtual keys,
 * features and statuses are lookup tables merged behind the append, not indexes (sqlite-event-lookups.ts).
 */
const SECONDARY_INDEXES = ['events_ts'];
/** Secondary indexes of the rollup tables (sqlite-rollups.ts: reads of session summaries and segments). */
const ROLLUP_INDEXES = [
  'session_totals_span',
  'session_totals_cost',
  'session_totals_growth',
  'session_totals_inexact',
  'session_rollups_session',
];
const BREAKDOWN = [
  'floor',
  'noindex',
  'events',
  ...SECONDARY_INDEXES.map((i) => `events-no-${i}`),
  'lean',
  'rollups',
  'rollups-noindex',
  'security',
  'quota',
  'both',
  'floor',
];
const MODES = (process.env.INGEST_MODES ?? 'floor,noindex,events,rollups,both,outofline,writer,thread')
  .split(',')
  .flatMap((m) => (m === 'breakdown' ? BREAKDOWN : [m])) as Mode[];
type Mode =
  | 'floor'
  | 'noindex'
  | 'events'
  | 'rollups'
  | 'both'
  | 'outofline'
  | 'writer'
  | 'thread'
  | 'lean'
  | 'rollups-noindex'
  | 'security'
  | 'quota'
  | `events-no-${string}`;
const START = Date.UTC(2026, 0, 5, 9);
/** Traffic is stamped as 50,000 requests/s, the rate under test. */
const RATE = 50_000;

const CONTENT = (process.env.INGEST_CONTENT ?? 'redacted') as 'redacted' | 'none' | 'full';
const redactor = createRedactor({ mode: CONTENT });
const pricer = createPricer(loadPriceCatalog());
const MODELS = [
  'gpt-4.1',
  'gpt-4.1-mini',
  'claude-sonnet-4.5',
  'gemini-2.5-flash',
  'deepseek-v3.2',
  'o3',
  'my-finetune',
];
const WORDS = (
  'order delivery invoice refund account password shipping tracking product warranty return policy payment card ' +
  'address customer support ticket priority schedule meeting report summary analysis revenue forecast quarter ' +
  'budget team project deadline feature release bug test deploy server database query index latency error ' +
  'timeout retry cache memory thread request response token model prompt context window history session'
).split(' ');

let seed = 12345;
function rnd(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff; // imul: exact 32-bit product
  return seed / 0x7fffffff;
}
function text(minWords: number, maxWords: number): string {
  const n = minWords + Math.floor(rnd() * (maxWords - minWords));
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rnd() * WORDS.length)]!);
  if (rnd() < 0.05) out.push('reach me at jane.doe@example.com'); // something for the redactor
  return out.join(' ');
}

interface Session {
  id: string;
  user: number;
  feature: string;
  model: string;
  turnsLeft: number;
  messages: { role: string; content: string }[];
}
let sessionCounter = 0;
function newSession(): Session {
  const user = Math.floor(USERS * rnd() ** 2);
  return {
    id: `sess-${++sessionCounter}-${Math.floor(rnd() * 1e9).toString(36)}`,
    user,
    feature: `feature-${Math.floor(25 * rnd() ** 2)}`,
    model: MODELS[Math.floor(MODELS.length * rnd() ** 2)]!,
    turnsLeft: 1 + Math.floor(rnd() * 12),
    messages: [{ role: 'system', content: `You are the assistant of ${'Acme Corp'}. ${text(40, 90)}` }],
  };
}
const live: Session[] = Array.from({ length: SESSIONS }, newSession);
const chainer = createChainer({ chainId: 'bench-instance' });

/** Event i: the next request of a random live session, through the real pipeline. */
function makeEvent(i: number): AuditEvent {
  const slot = Math.floor(rnd() * live.length);
  let s = live[slot]!;
  if (s.turnsLeft === 0) s = live[slot] = newSession();
  s.turnsLeft--;
  s.messages.push({ role: 'user', content: text(10, 70) });
  const startedAt = START + Math.floor((i * 1000) / RATE);
  const x = newExchange({
    source: 'gateway',
    instanceId: 'bench-instance',
    eventId: newEventId(startedAt),
    startedAt,
    endpoint: '/chat/completions',
    method: 'POST',
  });
  const streamed = rnd() < 0.6;
  x.requestBody = { model: s.model, messages: s.messages, stream: streamed, temperature: 0.2 };
  x.requestId = `req_${Math.floor(rnd() * 1e15).toString(36)}`;
  x.ip = `10.${s.user % 250}.${(s.user >> 8) % 250}.${1 + (s.user % 200)}`;
  x.userAgent = 'OpenAI/Python 1.54.4';
  x.provider = 'openai';
  x.attribution = {
    user: `user-${s.user}@example.com`,
    session: s.id,
    feature: s.feature,
    source: 'web',
    team: `team-${s.user % 20}`,
  };
  x.auth = {
    auth_method: 'bearer',
    auth_result: 'SUCCESS',
    api_key_id: `key_${(s.user % 400).toString(16).padStart(16, '0')}`,
    api_key_prefix: 'sk-proj-ab',
    virtual_key_id: null,
  };
  const failed = rnd() < 0.01;
  x.httpStatus = failed ? 500 : 200;
  const answer = text(30, 220);
  const promptTokens = Math.ceil(JSON.stringify(s.messages).length / 4);
  const completionTokens = Math.ceil(answer.length / 4);
  if (!failed) {
    x.responseText = JSON.stringify({
      id: 'chatcmpl-x',
      object: 'chat.completion',
      model: s.model,
      choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    });
    s.messages.push({ role: 'assistant', content: answer });
  } else {
    x.responseText = '{"error":{"message":"upstream failure","type":"server_error"}}';
  }
  x.latencyMs = 300 + rnd() * 3000;
  x.ttftMs = streamed ? 200 + rnd() * 400 : null;
  x.upstreamLatencyMs = x.latencyMs - 0.8;
  x.queueMs = 0.05;
  const { event, raw } = captureEvent(x);
  redactor.apply(event, raw);
  pricer.price(event);
  chainer.link(event);
  return event;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** The same event sequence for every mode: generated once, kept in memory (about N × 5 KB). */
const t0 = performance.now();
const events: AuditEvent[] = [];
for (let i = 0; i < N; i++) events.push(makeEvent(i));
let bytes = 0;
for (const e of events) bytes += (e.prompt?.length ?? 0) + (e.response?.length ?? 0);
console.log(
  `${fmt(N)} events built in ${((performance.now() - t0) / 1000).toFixed(1)} s; mean stored prompt+response ${fmt(bytes / N)} chars; ` +
    `${fmt(new Set(events.map((e) => e.session_id)).size)} sessions, ${fmt(new Set(events.map((e) => e.user_id)).size)} users; batch ${BATCH}` +
    (PREFILL > 0
      ? `; events table prefilled with ${fmt(PREFILL)} older events`
      : '; fresh files (INGEST_PREFILL=0)') +
    (PAGE_SIZE ? `; page size ${PAGE_SIZE}` : ''),
);

{
  // Rows each rollup table gets per event at this batch size (one UPSERT per distinct key and bucket).
  let cost = 0;
  let segments = 0;
  let totals = 0;
  let days = 0;
  let security = 0;
  for (let i = 0; i < N; i += BATCH) {
    const batch = events.slice(i, i + BATCH);
    const folded = foldBatch(batch, Number.NEGATIVE_INFINITY);
    cost += folded.rows.length;
    segments += folded.sessions.length;
    totals += sessionTotalsOf(folded.sessions).length;
    days += sessionDaysOf(folded.sessions).length;
    security += foldSecurity(batch).length;
  }
  const per = (n: number): string => (n / N).toFixed(2);
  console.log(
    `rollup rows per event: cost ${per(cost)} (minute and hour; days folded from hours), session segments ${per(segments)}, ` +
      `session totals ${per(totals)}, session days ${per(days)}, security ${per(security)}`,
  );
}
/** Bytes this process has written to storage so far (Linux), or null. */
function bytesWritten(): number | null {
  try {
    const m = /write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
function perEventKiB(from: number | null): string {
  const to = bytesWritten();
  return from === null || to === null ? '' : `, ${((to - from) / N / 1024).toFixed(1)} KiB written/event`;
}

const dir = mkdtempSync(join(tmpdir(), 'tollgate-ingest-'));
const rates = new Map<Mode, number>();
const floors: number[] = [];
/**
 * Fills the events table with `PREFILL` older events: the first batch, then SQL copies of what is
 * there with fresh ids, 40,000 users, new sessions and chains, 1–60 days older. Rollups are not
 * prefilled: the rows a batch upserts are the current hour's, neighbours whatever the table holds.
 */
function prefill(db: ReturnType<typeof openSqlite>, store: SqliteEventStore): void {
  if (PREFILL <= 0) return;
  store.appendSync(
    events
      .slice(0, Math.min(BATCH, N))
      .map((e) => ({ ...e, id: `${e.id.slice(0, 24)}ffffffffffff`, chain_id: 'prefill', seq: e.seq })),
  );
  const cols = ['ts_ms', ...AUDIT_EVENT_FIELDS];
  const fresh: Record<string, string> = {
    id: 'lower(hex(randomblob(16)))',
    user_id: `'user-p' || abs(random() % 40000) || '@example.com'`,
    session_id: `'sess-p-' || lower(hex(randomblob(6)))`,
    chain_id: `'prefill-' || lower(hex(randomblob(6)))`,
    ts_ms: 'ts_ms - 86400000 * (1 + abs(random() % 60))',
  };
  const select = cols.map((c) => fresh[c] ?? c).join(', ');
  let n = Math.min(BATCH, N);
  while (n < PREFILL) {
    const take = Math.min(n, PREFILL - n);
    db.exec(`INSERT INTO events (${cols.join(', ')}) SELECT ${select} FROM events LIMIT ${take}`);
    n += take;
  }
  // Written around the store: its users and sessions merged now, not in the first timed append.
  store.lookups.mergeAll();
  db.pragma('wal_checkpoint(TRUNCATE)');
}

/** Feeds every event to the gateway's writer as fast as it takes them; resolves once drained. */
async function throughWriter(store: WriterStore): Promise<{ ms: number; batches: number }> {
  const maxQueue = 50_000;
  let batches = 0;
  const writer = new EventWriter({
    store,
    clock: systemClock,
    policy: 'fail-open',
    maxQueue,
    batchSize: BATCH,
    flushDelayMs: 10,
    onWritten: () => batches++,
  });
  const t0 = performance.now();
  let i = 0;
  while (i < N) {
    if (writer.stats().queueDepth < maxQueue / 2)
      for (const end = Math.min(N, i + 1000); i < end; i++) writer.enqueue(events[i]!);
    await new Promise((r) => setImmediate(r));
  }
  await writer.drain();
  const ms = performance.now() - t0;
  const stats = writer.stats();
  if (stats.written !== N || stats.spooled + stats.dropped > 0)
    throw new Error(`writer lost events: ${JSON.stringify(stats)}`);
  return { ms, batches };
}

for (const [run, mode] of MODES.entries()) {
  const path = join(dir, `${run}-${mode}.db`);
  if (PAGE_SIZE) {
    // Another page size than the store default: fixed by the first write (WAL mode).
    const raw = new Database(path);
    raw.pragma(`page_size = ${PAGE_SIZE}`);
    raw.pragma('journal_mode = WAL');
    raw.close();
  }
  const db = openSqlite(path);
  if (mode === 'writer' || mode === 'thread') {
    const store = new SqliteEventStore(db);
    prefill(db, store);
    const rollups = createSqliteRollups(db);
    store.addInTransactionHook((b) => rollups.applyRollups(b));
    const thread = mode === 'thread' ? new SqliteAppendThread(path) : null;
    // The worker starts before the clock does (an empty batch: its first would otherwise pay for it).
    await thread?.append([]);
    const c0 = process.cpuUsage();
    const { ms, batches } = await throughWriter(thread ?? store);
    const cpu = process.cpuUsage(c0);
    await thread?.close();
    rates.set(mode, (N / ms) * 1000);
    console.log(
      `${mode.padEnd(24)} ${fmt((N / ms) * 1000).padStart(9)} events/s  (end to end through the EventWriter${thread ? ' and the append thread' : ''}, ${fmt(N / batches)} events per batch, ` +
        `CPU ${((cpu.user + cpu.system) / N).toFixed(1)} µs/event)`,
    );
    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    continue;
  }
  let write: (batch: AuditEvent[], from: number) => void;
  if (mode === 'floor') {
    db.exec('CREATE TABLE raw (body TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO raw (body) VALUES (?)');
    // Through a Buffer: a flat string, as the store's columns are (a concatenation is a rope
    // that SQLite's binding would flatten inside the timed write).
    const bodies = events.map((e) =>
      Buffer.from(
        JSON.stringify({ ...e, prompt: null, response: null }) + (e.prompt ?? '') + (e.response ?? ''),
      ).toString(),
    );
    const tx = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) insert.run(bodies[i]);
    });
    write = (b, from) => tx(from, from + b.length);
  } else {
    // noindex: no lookup merges either (the lookups are the events insert's too).
    const store = new SqliteEventStore(db, mode === 'noindex' ? { lookupMergeEvery: Infinity } : {});
    if (!mode.startsWith('rollups') && mode !== 'security' && mode !== 'quota') prefill(db, store);
    const rollups = createSqliteRollups(db);
    if (mode === 'noindex') {
      for (const index of SECONDARY_INDEXES) db.exec(`DROP INDEX ${index}`);
      write = (b) => store.appendSync(b);
    } else if (mode.startsWith('events-no-')) {
      db.exec(`DROP INDEX ${mode.slice('events-no-'.length)}`);
      write = (b) => store.appendSync(b);
    } else if (mode === 'events') write = (b) => store.appendSync(b);
    else if (mode === 'security' || mode === 'quota') {
      // The tables exist (createSqliteRollups made them): only this part's own writes are timed.
      const part = mode === 'security' ? createSqliteSecurityRollups(db) : createSqliteProviderQuota(db);
      const tx = db.transaction((b: AuditEvent[]) => part.apply(b));
      write = (b) => tx(b);
    } else if (mode === 'outofline' || mode === 'lean') {
      if (mode === 'outofline') store.addInTransactionHook((b) => rollups.applyRollups(b));
      db.exec('CREATE TABLE content_segments (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
      const segment = db.prepare('INSERT INTO content_segments (body) VALUES (?)');
      // Built before the clock, like the floor's bodies: the rows without content, and each
      // batch's content as one buffer.
      const lean = events.map((e) => ({ ...e, prompt: null, response: null }));
      const segments: Buffer[] = [];
      for (let i = 0; i < N; i += BATCH)
        segments.push(
          Buffer.from(
            events
              .slice(i, i + BATCH)
              .map((e) => `${e.prompt ?? ''}\u0000${e.response ?? ''}`)
              .join('\u0001'),
          ),
        );
      const tx = db.transaction((from: number, to: number) => {
        store.appendSync(lean.slice(from, to));
        segment.run(segments[from / BATCH]);
      });
      write = (b, from) => tx(from, from + b.length);
    } else if (mode === 'rollups' || mode === 'rollups-noindex') {
      if (mode === 'rollups-noindex') for (const index of ROLLUP_INDEXES) db.exec(`DROP INDEX ${index}`);
      const tx = db.transaction((b: AuditEvent[]) => rollups.applyRollups(b));
      write = (b) => tx(b);
    } else {
      store.addInTransactionHook((b) => rollups.applyRollups(b));
      write = (b) => store.appendSync(b);
    }
  }
  const io0 = bytesWritten();
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  let writeMs = 0;
  for (let i = 0; i < N; i += BATCH) {
    const batch = events.slice(i, i + BATCH);
    const t = performance.now();
    write(batch, i);
    writeMs += performance.now() - t;
  }
  const wall = performance.now() - w0;
  const cpu = process.cpuUsage(c0);
  const size =
    statSync(path).size +
    (() => {
      try {
        return statSync(`${path}-wal`).size;
      } catch {
        return 0;
      }
    })();
  rates.set(mode, (N / writeMs) * 1000);
  if (mode === 'floor') floors.push((N / writeMs) * 1000);
  console.log(
    `${mode.padEnd(24)} ${fmt((N / writeMs) * 1000).padStart(9)} events/s  (${((writeMs * 1000) / N).toFixed(1)} µs/event write, ` +
      `CPU ${((cpu.user + cpu.system) / N).toFixed(1)} µs/event, wall ${(wall / 1000).toFixed(1)} s, file ${(size / 1e6).toFixed(0)} MB${perEventKiB(io0)})`,
  );
  db.close();
  // Each mode's file goes before the next mode runs: its dirty pages would be written back
  // during the next measurement otherwise.
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}
// The floor of the run: the mean of its floor modes (first and last, to bracket the others).
const floor = floors.length > 0 ? floors.reduce((x, y) => x + y, 0) / floors.length : undefined;
if (floors.length > 1)
  console.log(`floor: mean of ${floors.length} runs, ${floors.map(fmt).join(' and ')} events/s`);
const both = rates.get('writer') ?? rates.get('both');
if (floor !== undefined && both !== undefined) {
  console.log(
    `${rates.has('writer') ? 'the writer (events + rollups)' : 'events + rollups'} at ${((both / floor) * 100).toFixed(0)} % of the floor (the same bytes, one column, no index); ` +
      `target 50,000/s: ${both >= 50_000 ? 'met' : 'not met'}${floor < 50_000 ? ' (below the floor itself on this machine)' : ''}`,
  );
}
if (floor !== undefined) {
  // Issue 22: ingest with content at >= 80 % of the floor measured in this run.
  for (const mode of ['both', 'outofline', 'writer', 'thread'] as const) {
    const rate = rates.get(mode);
    if (rate === undefined) continue;
    const share = (rate / floor) * 100;
    console.log(
      `  ${share >= 80 ? 'PASS' : 'FAIL'}  ${mode} at ${share.toFixed(0)} % of the floor (${fmt(rate)} vs ${fmt(floor)} events/s; target ≥ 80 %)`,
    );
  }
}
rmSync(dir, { recursive: true, force: true });
