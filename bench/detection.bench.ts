/**
 * Detection cost: CPU µs per event with every built-in detector at 100,000 active subjects, and
 * heap before/after idle subjects expire. Run: `node --expose-gc --import tsx bench/detection.bench.ts`
 * (or `npx tsx bench/detection.bench.ts`, without the forced GCs). Target: ≤ 20 µs per event.
 */
import type { AuditEvent } from '../src/core/audit-event.js';
import { blankEvent } from '../src/core/audit-event.js';
import { ManualClock } from '../src/core/clock.js';
import { createDetectors } from '../src/detection/default-detectors.js';
import { createDetectionEngine } from '../src/detection/detection-engine.js';
import { SeededRandom } from '../src/detection/evaluation/seeded-random.js';

const SUBJECTS = Number(process.argv[2] ?? 100_000);
const EVENTS = Number(process.argv[3] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
const heapMb = (): number => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1e6;
};

const rng = new SeededRandom(1);
const clock = new ManualClock(Date.UTC(2026, 0, 5, 9));
let alerts = 0;
const detectors = createDetectors({
  'cost.budget': { budgets: [{ scope: 'user', subject: '*', period: 'day', limit_usd: 50 }] },
});
const engine = createDetectionEngine({ detectors, clock, onAlert: () => void alerts++ });

// One template per subject: a user with their key, home address and session.
const models = ['gpt-4o-mini', 'gpt-4o', 'claude-sonnet'];
const templates: AuditEvent[] = Array.from({ length: SUBJECTS }, (_, i) => {
  const e = blankEvent({ id: `t${i}`, timestamp: new Date(clock.now()).toISOString(), source: 'gateway' });
  e.user_id = `user-${i}`;
  e.api_key_id = `kf_${i.toString(36)}`;
  e.ip_address = `${10 + (i % 200)}.${(i >> 8) & 255}.${i & 255}.7`;
  e.session_id = `s-${i}`;
  e.model_used = models[i % 3]!;
  e.auth_result = 'SUCCESS';
  return e;
});

function next(i: number): AuditEvent {
  const t = templates[rng.int(0, SUBJECTS - 1)]!;
  const e = { ...t, id: `e${i}`, threat_indicators: [] as string[] };
  e.input_tokens = rng.int(200, 6000);
  e.output_tokens = rng.int(20, 800);
  e.total_tokens = e.input_tokens + e.output_tokens;
  e.cost_micro_usd = rng.int(100, 20_000);
  e.status = rng.chance(0.02) ? 'SERVER_ERROR' : 'SUCCESS';
  return e;
}

function run(n: number, stepMs: number): { usPerEvent: number } {
  const batch: AuditEvent[] = Array.from({ length: 10_000 }, (_, i) => next(i));
  let cpu = 0;
  for (let done = 0; done < n; done += batch.length) {
    for (let i = 0; i < batch.length; i++) batch[i] = next(done + i);
    const start = process.cpuUsage();
    for (const e of batch) {
      clock.advance(stepMs);
      engine.observe(e);
    }
    const used = process.cpuUsage(start);
    cpu += used.user + used.system;
  }
  return { usPerEvent: cpu / n };
}

const heapStart = heapMb();
// Touch every subject first so all of them hold state, then measure.
run(SUBJECTS * 2, 3);
const warm = run(EVENTS, 3);
const heapActive = heapMb();
const active = detectors.map((d) => d.sweep(clock.now())).reduce((a, b) => a + b, 0);

// Everyone goes idle past the longest time-to-live; sweeping frees their state.
clock.advance(40 * 24 * 3_600_000);
engine.sweep();
const heapIdle = heapMb();
const left = detectors.map((d) => d.sweep(clock.now())).reduce((a, b) => a + b, 0);

console.log(`detectors: ${detectors.map((d) => d.id).join(', ')}`);
console.log(`subjects: ${SUBJECTS} users (+ as many keys, IPs, sessions), events measured: ${EVENTS}`);
console.log(`CPU per event: ${warm.usPerEvent.toFixed(2)} µs (target ≤ 20 µs)`);
console.log(`state entries while active: ${active}; after idle expiry: ${left}`);
console.log(
  `heap used: ${heapStart.toFixed(0)} MB at start, ${heapActive.toFixed(0)} MB with ${SUBJECTS} active subjects, ${heapIdle.toFixed(0)} MB after idle expiry${gc ? '' : ' (run with --expose-gc for exact figures)'}`,
);
console.log(`alerts raised during the run: ${alerts}`);
