/**
 * The canary test (issue 4): many requests carrying unique planted secrets go through the real
 * gateway — in prompts, tool-call arguments, streamed responses and headers — then every byte
 * Tollgate wrote (database, WAL, spool, logs, checkpoints, CLI output) is searched: zero hits.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { pino } from 'pino';
import { startTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { createRedactor } from '../../src/redaction/redactor.js';
import { FakeData, seededRandom } from '../redaction-corpus/fake-secrets.js';
import { startHarness } from '../support/gateway-harness.js';
import { FlakyEventStore } from '../support/flaky-event-store.js';
import { cli } from '../support/run-cli.js';
import { until } from '../support/until.js';

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

/** Every planted value that must not survive, and a place to find them. */
function hits(haystack: string, secrets: string[]): string[] {
  return secrets.filter((s) => haystack.includes(s));
}

describe('canary: planted secrets never reach anything Tollgate writes', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('finds zero of 240 planted secrets in the database, WAL, logs, checkpoints and CLI output', async () => {
    const fake = new FakeData(seededRandom(20261126));
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-canary-'));
    dirs.push(dir);
    const mock = new MockProvider({ record: false });
    const upstream = await mock.listen();
    const logFile = join(dir, 'tollgate.log');
    const log = pino({ level: 'debug' }, pino.destination({ dest: logFile, sync: true }));
    const config = loadConfig({
      file: null,
      overrides: {
        db: join(dir, 'tollgate.db'),
        port: 0,
        upstream_url: upstream,
        instance_id: 'canary',
        'checkpoints.every_events': 20,
      },
    });
    const tg = await startTollgate({ config, log });
    const secrets: string[] = [];
    const makers = [
      () => fake.openaiKey(),
      () => fake.anthropicKey(),
      () => fake.awsAccessKey(),
      () => fake.githubToken(),
      () => fake.slackToken(),
      () => fake.googleApiKey(),
      () => fake.stripeKey(),
      () => fake.jwt(),
    ];
    for (let i = 0; i < 60; i++) {
      const inPrompt = makers[i % makers.length]!();
      const inTool = makers[(i + 3) % makers.length]!();
      const inHeader = makers[(i + 5) % makers.length]!();
      const inResponse = makers[(i + 1) % makers.length]!();
      secrets.push(inPrompt, inTool, inHeader, inResponse);
      mock.enqueue({ text: `Sure. Here is the key you asked for: ${inResponse} and nothing else.` });
      const stream = i % 2 === 0;
      const res = await request(`${tg.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer sk-test-canary-0123456789abcdefghijklmn',
          'x-tollgate-user': `user-${i}`,
          'x-tollgate-feature': `debug ${inHeader}`,
          'user-agent': `script/1.0 token=${inHeader}`,
        },
        body: JSON.stringify({
          model: 'gpt-4.1-mini',
          stream,
          messages: [
            { role: 'user', content: `My config has API_KEY=${inPrompt} please check it` },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 't1',
                  type: 'function',
                  function: { name: 'deploy', arguments: JSON.stringify({ token: inTool }) },
                },
              ],
            },
          ],
        }),
      });
      await res.body.text();
    }
    await tg.close();
    await mock.close();

    const written = allFiles(dir)
      .map((f) => readFileSync(f).toString('latin1'))
      .join('\n');
    expect(written.length).toBeGreaterThan(10_000);
    expect(hits(written, secrets)).toEqual([]);
    // The redactions were recorded, so the test is not passing because nothing was captured.
    const events = (await cli(['events', '--db', join(dir, 'tollgate.db'), '--json', '--limit', '1000'])).out;
    expect(hits(events, secrets)).toEqual([]);
    expect(events).toContain('[REDACTED:');
    const counts = events
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { redactions: { type: string; count: number }[] });
    expect(counts.filter((e) => e.redactions.length > 0)).toHaveLength(60);
    for (const args of [
      ['report', 'cost', '--by', 'feature'],
      ['alerts', '--json'],
      ['events', '--limit', '1000'],
    ]) {
      const out = await cli([...args, '--db', join(dir, 'tollgate.db')]);
      expect(hits(out.out + out.err, secrets)).toEqual([]);
    }
  }, 120_000);

  it('finds zero planted secrets in the disk spool written while the store was down', async () => {
    const fake = new FakeData(seededRandom(7));
    let flaky!: FlakyEventStore;
    const h = await startHarness({
      redactor: createRedactor(),
      spool: true,
      wrapStore: (s) => (flaky = new FlakyEventStore(s)),
    });
    flaky.down = true;
    const secrets: string[] = [];
    for (let i = 0; i < 20; i++) {
      const s = fake.openaiKey();
      secrets.push(s);
      const res = await request(`${h.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-x' },
        body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: `key ${s}` }] }),
      });
      await res.body.text();
    }
    // The writer spools off the request path: wait for it rather than for a fixed time.
    await until('20 events spooled', () => h.tg.writer.stats().spooled >= 20, 5_000, 10);
    expect(h.tg.writer.stats().spooled).toBe(20);
    const spool = allFiles(h.dir)
      .filter((f) => f.includes('spool'))
      .map((f) => readFileSync(f, 'latin1'))
      .join('');
    expect(spool).toContain('[REDACTED:openai_key]');
    expect(hits(spool, secrets)).toEqual([]);
    await h.close();
  });
});
