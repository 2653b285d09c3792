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
import { CheckpointWriter } from '../src/integrity/checkpoint-writer.js';
import { createChainer } from '../src/integrity/hash-chain.js';
import { MemoryCheckpointStore } from '../src/integrity/memory-checkpoint-store.js';
import { generateSigningKey } from '../src/integrity/signing-key.js';
import { verifyChains } from '../src/integrity/verify.js';
import { MemoryEventStore } from '../src/store/memory/memory-event-store.js';
import { benchEvent } from './verify-store.js';

const N = Number(process.argv[2] ?? 1_000_000);

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const fmt = (n: number, d = 2): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  console.log(`integrity bench: ${N.toLocaleString('en-US')} events, node ${process.version}`);
  const events: AuditEvent[] = new Array<AuditEvent>(N);
  for (let i = 0; i < N; i++) events[i] = benchEvent(i);

  // Warm-up, so the JIT has settled before measuring.
  const warm = createChainer({ chainId: 'warm' });
  for (let i = 0; i < Math.min(N, 20_000); i++) warm.link(benchEvent(i));

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
