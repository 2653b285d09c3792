/**
 * Evidence bundle costs over one chain of N events in memory (default 200,000; 1 in 100 an admin
 * event, a checkpoint every 1,000): `verify` of the store as the baseline measured in the same
 * run, then building the bundle (leaves, Merkle levels, proofs), its JSON size, and checking it
 * offline (`verify --evidence`).
 *
 *   NODE_OPTIONS=--max-old-space-size=4096 npx tsx bench/evidence.bench.ts [N]
 */
import { adminActionEvent } from '../src/core/admin-action-event.js';
import { blankEvent, type AuditEvent } from '../src/core/audit-event.js';
import { ManualClock } from '../src/core/clock.js';
import { CheckpointWriter } from '../src/integrity/checkpoint-writer.js';
import { buildEvidenceBundle } from '../src/integrity/evidence-build.js';
import { checkEvidenceBundle } from '../src/integrity/evidence-check.js';
import { createChainer } from '../src/integrity/hash-chain.js';
import { MemoryCheckpointStore } from '../src/integrity/memory-checkpoint-store.js';
import { generateSigningKey } from '../src/integrity/signing-key.js';
import { verifyChains } from '../src/integrity/verify.js';
import { MemoryEventStore } from '../src/store/memory/memory-event-store.js';

const N = Number(process.argv[2] ?? 200_000);
const BASE = Date.now() - 10 * 86_400_000;

function traffic(i: number): AuditEvent {
  const e = blankEvent({
    id: `0194b2c0-0000-7000-8000-${i.toString(16).padStart(12, '0')}`,
    timestamp: '',
    source: 'gateway',
  });
  e.request_id = `req_${i}`;
  e.endpoint = '/chat/completions';
  e.http_method = 'POST';
  e.model_requested = 'gpt-4.1';
  e.user_id = `user-${i % 40}`;
  e.input_tokens = 100 + (i % 900);
  e.output_tokens = 20 + (i % 300);
  e.status = 'SUCCESS';
  e.prompt = `[REDACTED] question ${i}`;
  return e;
}

async function main(): Promise<void> {
  const clock = new ManualClock(BASE);
  const key = generateSigningKey('tollgate-gw-1');
  const store = new MemoryEventStore();
  const checkpoints = new MemoryCheckpointStore();
  const chainer = createChainer({ chainId: 'gw-1' });
  const writer = CheckpointWriter.forNewChain({
    chainId: 'gw-1',
    key,
    store: checkpoints,
    clock,
    everyEvents: 1000,
    everyMs: 3_600_000_000,
  });
  for (let i = 1; i <= N; i += 1000) {
    const batch: AuditEvent[] = [];
    for (let j = i; j < Math.min(N + 1, i + 1000); j++) {
      const e =
        j % 100 === 0
          ? adminActionEvent(
              { action: 'admin:keys.create', actor: 'ops', subject: `vk_${j}`, ok: true },
              clock,
            )
          : traffic(j);
      e.timestamp = new Date(clock.now()).toISOString();
      chainer.link(e);
      batch.push(e);
      clock.advance(1000);
    }
    await store.append(batch);
    writer.recordWritten(batch);
  }
  await writer.close();
  const cpu = (): number => process.cpuUsage().user + process.cpuUsage().system;
  const measure = async <T>(
    f: () => Promise<T> | T,
  ): Promise<{ value: T; wallMs: number; cpuMs: number }> => {
    const [w, c] = [performance.now(), cpu()];
    const value = await f();
    return { value, wallMs: performance.now() - w, cpuMs: (cpu() - c) / 1000 };
  };
  const verify = await measure(() => verifyChains(store, checkpoints, [key.verifier()]));
  const build = await measure(() =>
    buildEvidenceBundle({
      store,
      checkpoints,
      anchors: null,
      keyring: [key.verifier()],
      verify: {
        ...verify.value,
        anchors: {
          file: null,
          anchored_checkpoints: 0,
          pinned_keys: 0,
          keys_from: 'flag',
          max_checkpoint_age_ms: null,
          chains: [],
          warnings: [],
        },
      },
      config: {},
      storeId: 'bench',
      sinceMs: BASE,
      nowMs: clock.now(),
      signer: key,
    }),
  );
  const text = await measure(() => JSON.stringify(build.value));
  const check = await measure(() =>
    checkEvidenceBundle(JSON.parse(text.value), 'bench.json', { keys: [key.verifier()] }),
  );
  const row = (name: string, m: { wallMs: number; cpuMs: number }): string =>
    `${name.padEnd(44)} ${m.wallMs.toFixed(0).padStart(7)} ms wall ${m.cpuMs.toFixed(0).padStart(7)} ms CPU`;
  console.log(
    `${N} events, ${build.value.sections.access_log.length} admin events, ${build.value.sections.chains[0]!.checkpoints.length} checkpoints`,
  );
  console.log(row('verify (baseline, same run)', verify));
  console.log(row('evidence: build bundle', build));
  console.log(row('evidence: JSON.stringify', text));
  console.log(row('verify --evidence: check bundle', check));
  console.log(`bundle: ${(text.value.length / 1024).toFixed(0)} KB; check ok: ${check.value.ok}`);
}

await main();
