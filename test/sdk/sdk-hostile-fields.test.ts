/**
 * The same as test/privacy/hostile-fields.test.ts through the SDK (issue 17): hostile strings with
 * planted keys in the attribution, the headers, `model`, `user`, the messages and the provider's
 * answer, recorded by an Auditor with the default redactor into a SQLite store. Every byte of the
 * store files has no key tail, every event's hash verifies, and `tollgate verify` exits 0.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/run-cli.js';
import { hasValidHash } from '../../src/integrity/hash-chain.js';
import { createRedactor } from '../../src/redaction/redactor.js';
import { createAuditedFetch, createAuditor, type Auditor } from '../../src/sdk/index.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { FakeData, seededRandom } from '../redaction-corpus/fake-secrets.js';

const fake = new FakeData(seededRandom(2026));
const planted: string[] = [];
const kinds = [
  () => fake.openaiKey(),
  () => fake.awsAccessKey(),
  () => fake.githubToken(),
  () => fake.googleApiKey(),
];
const filler = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({
    unit: fc.constantFrom('\ud800', '\udfff', '\u0000', '\u0085', '\u009b', '\u202e', 'a', ' '),
    maxLength: 20,
  }),
  fc.constant('y'.repeat(100_000)),
);
const value = fc
  .record({ head: filler, pad: fc.integer({ min: 0, max: 1100 }), kind: fc.nat(3) })
  .map(({ head, pad, kind }) => {
    const s = kinds[kind]!();
    planted.push(s);
    return `${head}${'p'.repeat(pad)} ${s} .`;
  });
const headerSafe = (v: string): string => v.replace(/[^\t\u0020-\u007e\u0080-\u00ff]/g, '?').slice(-1300);

let upstream: Server;
let base: string;
let dir: string;
let auditor: Auditor;
let store: SqliteEventStore;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const a = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { metadata: Record<string, string> })
        .metadata;
      const status = a.status === '401' ? 401 : 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        status === 401
          ? JSON.stringify({ error: { message: a.error, code: a.code, type: 'x' } })
          : JSON.stringify({
              model: a.model,
              choices: [
                { index: 0, message: { role: 'assistant', content: a.content }, finish_reason: a.finish },
              ],
              usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
            }),
      );
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
  dir = mkdtempSync(join(tmpdir(), 'tollgate-sdk-hostile-'));
  store = new SqliteEventStore(openSqlite(join(dir, 'sdk.db')));
  auditor = await createAuditor({ store, redactor: createRedactor(), provider: 'openai' });
});
afterAll(async () => {
  await new Promise((r) => upstream?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('every field is hostile input, through the SDK', () => {
  it('no planted key reaches the store files, and every event verifies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(value, { minLength: 13, maxLength: 13 }),
        fc.constantFrom('200', '401'),
        async (v, status) => {
          const fetchFn = createAuditedFetch({
            auditor,
            attribution: { user: v[0]!, session: v[1]!, feature: v[2]!, team: v[3]! },
          });
          const res = await fetchFn(`${base}/chat/completions`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: 'Bearer sk-x',
              'user-agent': headerSafe(v[4]!),
              'x-request-id': headerSafe(v[5]!),
            },
            body: JSON.stringify({
              model: v[6],
              user: v[7],
              messages: [{ role: 'user', content: v[8] }],
              metadata: {
                status,
                model: v[9],
                content: v[10],
                finish: v[11],
                error: v[12],
                code: v[12]!.slice(-300),
              },
            }),
          });
          await res.arrayBuffer();
        },
      ),
      { numRuns: 25, seed: 2026, endOnFailure: true },
    );
    await auditor.close();
    const reopened = new SqliteEventStore(openSqlite(join(dir, 'sdk.db')));
    const events = await reopened.query({ order: 'asc', limit: 1000 });
    await reopened.close();
    expect(events.length).toBe(25);
    for (const e of events) expect(hasValidHash(e), e.id).toBe(true);
    // The CLI's verify, as an auditor would run it over the SDK's store.
    const verify = await cli(['verify', '--db', join(dir, 'sdk.db')]);
    expect(verify.code, verify.out + verify.err).toBe(0);
    expect(verify.out).toMatch(/verify: OK/);
    // The SDK signs no checkpoints: verify checks every link and says so.
    expect(verify.out).toMatch(/no checkpoint yet/);
    const bytes = Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
    const json = JSON.stringify(events);
    const leaks = planted.filter((s) => bytes.includes(s.slice(-12)) || json.includes(s.slice(-12)));
    expect(planted.length).toBeGreaterThan(300);
    expect(leaks).toEqual([]);
  }, 60_000);
});
