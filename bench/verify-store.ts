/**
 * The store bench/verify.bench.ts measures: one chain of N synthetic events (~1.3 KB of canonical
 * JSON each, redacted prompt and response) in a SQLite file (or a PostgreSQL schema), chained by
 * the real chainer, written through the store's own append (PostgreSQL: COPY) and checkpointed by
 * the real checkpoint writer every 1,000 events, with the signing key beside it. Built once per N
 * and reused (`--reuse`).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ManualClock } from '../src/core/clock.js';
import type { AuditEvent } from '../src/core/audit-event.js';
import { blankEvent } from '../src/core/audit-event.js';
import { CheckpointWriter } from '../src/integrity/checkpoint-writer.js';
import { createChainer, type HashChainer } from '../src/integrity/hash-chain.js';
import { generateSigningKey, parseSigningKey, type SigningKey } from '../src/integrity/signing-key.js';
import type { CheckpointStore } from '../src/store/checkpoint-store.js';
import type { EventStore } from '../src/store/event-store.js';
import { openEventStore, type OpenedEventStore } from '../src/store/open-event-store.js';
import { PostgresCheckpointStore } from '../src/store/postgres/postgres-checkpoint-store.js';
import { PostgresEventStore } from '../src/store/postgres/postgres-event-store.js';

export const BENCH_CHAIN = 'gw-1';
const BASE = Date.UTC(2026, 0, 1);

/** One synthetic gateway event (~1.3 KB canonical), for bench/integrity.bench.ts and the verify bench's store. */
export function benchEvent(i: number): AuditEvent {
  const e = blankEvent({
    id: `0194b2c0-0000-7000-8000-${i.toString(16).padStart(12, '0')}`,
    timestamp: new Date(BASE + i * 10).toISOString(),
    source: 'gateway',
  });
  e.request_id = `req_${i}`;
  e.trace_id = (i * 7919).toString(16).padStart(32, '0');
  e.span_id = (i * 104729).toString(16).padStart(16, '0');
  e.instance_id = BENCH_CHAIN;
  e.ip_address = `10.0.${i % 256}.${(i * 3) % 256}`;
  e.user_agent = 'OpenAI/JS 6.49.0';
  e.api_provider = 'openai';
  e.endpoint = '/chat/completions';
  e.http_method = 'POST';
  e.model_requested = 'gpt-4.1';
  e.model_used = 'gpt-4.1-2025-04-14';
  e.stream = i % 2 === 0;
  e.auth_method = 'bearer';
  e.auth_result = 'SUCCESS';
  e.api_key_id = `kf_${i % 17}`;
  e.api_key_prefix = 'sk-proj-';
  e.input_tokens = 100 + (i % 900);
  e.output_tokens = 20 + (i % 300);
  e.total_tokens = e.input_tokens + e.output_tokens;
  e.usage_source = 'reported';
  e.latency_ms = 120.5 + (i % 1000) / 4;
  e.time_to_first_token_ms = 80;
  e.status = 'SUCCESS';
  e.http_status_code = 200;
  e.finish_reason = 'stop';
  e.user_id = `user-${i % 400}`;
  e.session_id = `sess-${Math.floor(i / 10)}`;
  e.feature_name = 'support-bot';
  e.team = 'cx';
  e.cost_micro_usd = 1250 + (i % 5000);
  e.pricing_version = '2026-01';
  e.prompt = `Summarise ticket ${i} for [EMAIL]: the customer writes that the order arrived damaged and asks for a refund.`;
  e.response = `Ticket ${i}: refund request for a damaged order; customer reachable at [PHONE].`;
  e.redactions = [{ type: 'email', count: 1 }];
  return e;
}

/** The two stores the bench reads and appends to. */
export interface BenchStores {
  store: EventStore;
  checkpoints: CheckpointStore;
}

export interface BenchStore {
  file: string;
  key: SigningKey;
  opened: OpenedEventStore;
  /** Seconds the build took (0 when reused). */
  builtInS: number;
}

/** Opens the store of `n` events in `dir`, building it first unless it exists and `reuse` is set. */
export async function benchStore(dir: string, n: number, reuse: boolean): Promise<BenchStore> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `verify-${n}.db`);
  const keyFile = join(dir, `verify-${n}.key`);
  const done = join(dir, `verify-${n}.done`);
  if (reuse && existsSync(done) && existsSync(file)) {
    const key = parseSigningKey(readFileSync(keyFile, 'utf8'));
    return { file, key, opened: await openEventStore(file), builtInS: 0 };
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`, done]) rmSync(f, { force: true });
  const started = performance.now();
  const key = generateSigningKey('tollgate-bench');
  writeFileSync(keyFile, key.privateKeyText(), { mode: 0o600 });
  const opened = await openEventStore(file);
  await appendBenchEvents(opened, key, 0, n, null);
  writeFileSync(done, `${n}\n`);
  return { file, key, opened, builtInS: (performance.now() - started) / 1000 };
}

export interface PostgresBenchStore {
  key: SigningKey;
  store: PostgresEventStore;
  checkpoints: PostgresCheckpointStore;
  /** Seconds the build took (0 when reused). */
  builtInS: number;
}

/**
 * The same chain of `n` events in the PostgreSQL schema `schema` at `url` (the store's own tables,
 * without rollups: verify does not read them), the key in `dir`. Rebuilt (schema dropped) unless
 * `reuse` is set and the schema holds the whole chain.
 */
export async function benchPostgresStore(
  url: string,
  schema: string,
  dir: string,
  n: number,
  reuse: boolean,
): Promise<PostgresBenchStore> {
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, `verify-pg-${schema}-${n}.key`);
  if (reuse && existsSync(keyFile)) {
    const store = await PostgresEventStore.open({ url, schema });
    const head = (await store.chainHeads()).find((h) => h.chain_id === BENCH_CHAIN);
    if (head?.seq === n) {
      const key = parseSigningKey(readFileSync(keyFile, 'utf8'));
      const checkpoints = new PostgresCheckpointStore(store.connectionPool, schema);
      await checkpoints.opened();
      return { key, store, checkpoints, builtInS: 0 };
    }
    await store.close();
  }
  const started = performance.now();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema.replaceAll('"', '""')}" CASCADE`);
  await admin.end();
  const key = generateSigningKey('tollgate-bench');
  writeFileSync(keyFile, key.privateKeyText(), { mode: 0o600 });
  const store = await PostgresEventStore.open({ url, schema });
  const checkpoints = new PostgresCheckpointStore(store.connectionPool, schema);
  await checkpoints.opened();
  await appendBenchEvents({ store, checkpoints }, key, 0, n, null);
  await store.connectionPool.query(`ANALYZE "${schema.replaceAll('"', '""')}".events`);
  return { key, store, checkpoints, builtInS: (performance.now() - started) / 1000 };
}

/**
 * Appends events `from`..`to - 1` (seqs from + 1 ..) to the bench chain with checkpoints every
 * 1,000 events, continuing `chainer` (null: a new chain from seq 1).
 */
export async function appendBenchEvents(
  opened: BenchStores,
  key: SigningKey,
  from: number,
  to: number,
  chainer: HashChainer | null,
): Promise<HashChainer> {
  const clock = new ManualClock(BASE + from * 10);
  const chain = chainer ?? createChainer({ chainId: BENCH_CHAIN });
  const writer =
    from === 0
      ? CheckpointWriter.forNewChain({
          chainId: BENCH_CHAIN,
          key,
          store: opened.checkpoints,
          clock,
          everyEvents: 1000,
          everyMs: 3_600_000_000,
        })
      : await CheckpointWriter.resume(
          {
            chainId: BENCH_CHAIN,
            key,
            store: opened.checkpoints,
            clock,
            everyEvents: 1000,
            everyMs: 3_600_000_000,
          },
          opened.store,
        );
  const batch = 5000;
  for (let i = from; i < to; i += batch) {
    const events: AuditEvent[] = [];
    for (let j = i; j < Math.min(to, i + batch); j++) {
      const e = benchEvent(j);
      chain.link(e);
      events.push(e);
    }
    await opened.store.append(events);
    writer.recordWritten(events);
    clock.advance(batch * 10);
    await writer.flush();
    if (from === 0 && (i / batch) % 40 === 0)
      process.stderr.write(`\rbuilding: ${i.toLocaleString('en-US')} events`);
  }
  await writer.close();
  if (from === 0) process.stderr.write('\n');
  return chain;
}
