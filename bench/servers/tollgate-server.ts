// Tollgate with the whole audit pipeline on (redaction, pricing, detection, chain, SQLite writer).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { announce, serveStats } from './child-stats.js';
import { RULE_IDS } from '../../src/detection/default-detectors.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
const upstream = process.env.BENCH_UPSTREAM!;
const config = loadConfig({
  file: null,
  overrides: {
    db: join(dir, 'tollgate.db'),
    port: 0,
    upstream_url: upstream,
    // The mock speaks OpenAI under /v1 and Anthropic's Messages at its origin.
    providers: [
      { name: 'openai', api: 'openai', base_url: upstream, models: ['gpt-*'] },
      { name: 'anthropic', api: 'anthropic', base_url: new URL(upstream).origin, models: ['claude-*'] },
    ],
    instance_id: 'bench',
    'retry.max_retries': 0,
    ...(process.env.BENCH_FLUSH_MS ? { 'writer.flush_delay_ms': Number(process.env.BENCH_FLUSH_MS) } : {}),
    ...(process.env.BENCH_FLUSH_EVENTS
      ? { 'writer.flush_events': Number(process.env.BENCH_FLUSH_EVENTS) }
      : {}),
    // The A/B of issue 22: `1` commits from the append thread, `0` on the event loop (the default).
    ...(process.env.BENCH_WRITER_THREAD ? { 'writer.thread': process.env.BENCH_WRITER_THREAD === '1' } : {}),
    // `1`: WAL checkpoints from a worker thread, `0` in the commits on the event loop (the default; issue 22).
    ...(process.env.BENCH_CKPT_THREAD
      ? { 'writer.checkpoint_thread': process.env.BENCH_CKPT_THREAD === '1' }
      : {}),
    // Attribution experiments: switch parts of the pipeline off (never in the reported numbers).
    ...(process.env.BENCH_NO_DETECTION
      ? { detection: Object.fromEntries(RULE_IDS.map((r) => [r, false])) }
      : {}),
    ...(process.env.BENCH_CONTENT_MODE ? { 'content.mode': process.env.BENCH_CONTENT_MODE } : {}),
  },
});
const tg = await startTollgate({ config, log: createLogger('error') });
serveStats();
process.on('message', (msg: unknown) => {
  if (msg === 'events') {
    void tg.writer
      .drain()
      .then(async () => process.send?.({ events: await tg.store.count(), writer: tg.writer.stats() }));
  }
});
announce(Number(new URL(tg.url).port));
