/**
 * Tamper-evidence costs: CPU per event of chaining (and of the checkpoint writer's Merkle
 * append), and verify throughput, over N events in memory (default 1,000,000).
 *
 *   NODE_OPTIONS=--max-old-space-size=8192 npx tsx bench/integrity.bench.ts [N]
 *
 * Targets (issue 8): chaining ≤ 10 µs CPU per event; verify ≥ 100,000 events/s. The plain
 * JSON.stringify line is a yardstick for the machine: the event hash is one canonical
 * serialization plus one SHA-256 of about 1.3 KB.
 */
import { ManualClock } from '../src/core/clock.js';
import type { AuditEvent } from '../src/core/audit-event.js';
import { blankEvent } from '../src/core/audit-event.js';
import { CheckpointWriter } from '../src/integrity/checkpoint-writer.js';
import { createChainer } from '../src/integrity/hash-chain.js';
import { MemoryCheckpointStore } from '../src/integrity/memory-checkpoint-store.js';
import { generateSigningKey } from '../src/integrity/signing-key.js';
import { verifyChains } from '../src/integrity/verify.js';
import { MemoryEventStore } from '../src/store/memory/memory-event-store.js';

const N = Number(process.argv[2] ?? 1_000_000);
const BASE = Date.UTC(2026, 0, 1);

function event(i: number): AuditEvent {
  const e = blankEvent({
    id: `0194b2c0-0000-7000-8000-${i.toString(16).padStart(12, '0')}`,
    timestamp: new Date(BASE + i * 10).toISOString(),
    source: 'gateway',
  });
  e.request_id = `req_${i}`;
  e.trace_id = (i * 7919).toString(16).padStart(32, '0');
  e.span_id = (i * 104729).toString(16).padStart(16, '0');
  e.instance_id = 'gw-1';
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

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const fmt = (n: number, d = 2): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  console.log(`integrity bench: ${N.toLocaleString('en-US')} events, node ${process.version}`);
  const events: AuditEvent[] = new Array<AuditEvent>(N);
  for (let i = 0; i < N; i++) events[i] = event(i);

  // Warm-up, so the JIT has settled before measuring.
  const warm = createChainer({ chainId: 'warm' });
  for (let i = 0; i < Math.min(N, 20_000); i++) warm.link(event(i));

  let t = cpuUs();
  for (let i = 0; i < N; i++) JSON.stringify(events[i]);
  const jsonUs = (cpuUs() - t) / N;

  const chainer = createChainer({ chainId: 'gw-1' });
  t = cpuUs();
  for (let i = 0; i < N; i++) chainer.link(events[i]!);
  const linkUs = (cpuUs() - t) / N;

  const checkpoints = new MemoryCheckpointStore();
  const key = generateSigningKey('tollgate-bench');
  const writer = CheckpointWriter.forNewChain({
    chainId: 'gw-1',
    key,
    store: checkpoints,
    clock: new ManualClock(),
    everyEvents: 1000,
  });
  t = cpuUs();
  for (let i = 0; i < N; i += 100) writer.recordWritten(events.slice(i, i + 100));
  await writer.close();
  const treeUs = (cpuUs() - t) / N;

  const store = new MemoryEventStore();
  for (let i = 0; i < N; i += 10_000) await store.append(events.slice(i, i + 10_000));
  events.length = 0;

  const wall = performance.now();
  t = cpuUs();
  const report = await verifyChains(store, checkpoints, [key.verifier()]);
  const verifyCpuS = (cpuUs() - t) / 1e6;
  const verifyWallS = (performance.now() - wall) / 1000;
  if (!report.ok) throw new Error('bench chain did not verify');

  console.log(`machine yardstick: JSON.stringify of one event      ${fmt(jsonUs)} µs CPU`);
  console.log(`chaining (canonical JSON + SHA-256, link)          ${fmt(linkUs)} µs CPU/event   target ≤ 10`);
  console.log(`checkpoint writer (Merkle leaf + append, signing)  ${fmt(treeUs)} µs CPU/event`);
  console.log(`chaining total on the write path                   ${fmt(linkUs + treeUs)} µs CPU/event`);
  console.log(
    `verify: ${report.events_checked.toLocaleString('en-US')} events, ${report.checkpoints_checked} checkpoints in ${fmt(verifyWallS)} s wall / ${fmt(verifyCpuS)} s CPU = ${fmt(report.events_checked / verifyWallS, 0)} events/s   target ≥ 100,000`,
  );
}

await main();
