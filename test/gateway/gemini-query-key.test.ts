/**
 * Gemini's other way to send its key: `?key=` on the request target. It is fingerprinted like a
 * key header (the same `api_key_id`, so auth-failure rules see it), and the raw key is in no
 * stored field nor anywhere in the database files. In managed mode the client's `?key=` (a
 * gateway key) never reaches the provider.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { keyFingerprint } from '../../src/access/key-fingerprint.js';
import { createKey } from '../../src/access/virtual-keys.js';
import { createLogger } from '../../src/app/logger.js';
import { startTollgate } from '../../src/app/start-tollgate.js';
import { loadConfig } from '../../src/config/config.js';
import { SqliteKeyStore } from '../../src/store/sqlite/sqlite-keys.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { createAuditedFetch } from '../../src/sdk/index.js';
import { harnessLikeAuditor, sdkEvents } from '../sdk/sdk-support.js';
import { startHarness, type Harness } from '../support/gateway-harness.js';
import { startDialectUpstream, USAGE, type DialectUpstream } from '../support/dialect-upstreams.js';

const GEMINI_KEY = 'AIzaSyQUERYkey0123456789abcdefghijklmnop';
const PATH = '/v1beta/models/gemini-2.5-flash:generateContent';
const BODY = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });

/** Every byte the store holds on disk (database, WAL, shared memory) as latin1 text. */
function storedBytes(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.startsWith('tollgate.db'))
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('\n');
}

describe('Gemini ?key= query parameter', () => {
  let h: Harness | undefined;
  let up: DialectUpstream | undefined;
  afterEach(async () => {
    await h?.close();
    await up?.close();
    h = undefined;
    up = undefined;
  });

  it('is fingerprinted as the key, passed on to Gemini in passthrough, and stored nowhere', async () => {
    up = await startDialectUpstream();
    h = await startHarness({
      providers: [{ name: 'gemini', api: 'gemini', base_url: up.origin, models: ['gemini-*'], fallback: [] }],
    });
    const origin = h.baseURL.replace(/\/v1$/, '');
    const viaQuery = await request(`${origin}${PATH}?key=${GEMINI_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: BODY,
    });
    expect(viaQuery.statusCode).toBe(200);
    await viaQuery.body.text();
    const viaHeader = await request(`${origin}${PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': GEMINI_KEY },
      body: BODY,
    });
    await viaHeader.body.text();

    // Passthrough: the provider gets the key where the client put it.
    expect(up.seen[0]!.url).toBe(`${PATH}?key=${GEMINI_KEY}`);
    const [q, hd] = await h.events();
    expect(q!.auth_method).toBe('query-key');
    expect(q!.api_key_id).toBe(keyFingerprint(Buffer.from('test-fingerprint-secret'), GEMINI_KEY));
    expect(q!.api_key_id).toBe(hd!.api_key_id);
    expect(q!.api_key_prefix).toBe(GEMINI_KEY.slice(0, 8));
    expect(q!.endpoint).toBe('/models/gemini-2.5-flash:generateContent');
    expect(q!.model_requested).toBe('gemini-2.5-flash');
    expect(q!.input_tokens).toBe(USAGE.input);
    expect(q!.status).toBe('SUCCESS');
    expect(JSON.stringify([q, hd])).not.toContain(GEMINI_KEY);
    expect(storedBytes(h.dir)).not.toContain(GEMINI_KEY);
  });

  it('is fingerprinted the same way by the SDK', async () => {
    up = await startDialectUpstream();
    const auditor = await harnessLikeAuditor({ provider: 'gemini' });
    try {
      const auditedFetch = createAuditedFetch({ auditor });
      const res = await auditedFetch(`${up.origin}${PATH}?key=${GEMINI_KEY}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: BODY,
      });
      expect(res.status).toBe(200);
      await res.text();
      const [e] = await sdkEvents(auditor);
      expect(e!.auth_method).toBe('query-key');
      expect(e!.api_key_id).toBe(keyFingerprint(Buffer.from('test-fingerprint-secret'), GEMINI_KEY));
      expect(e!.endpoint).toBe('/models/gemini-2.5-flash:generateContent');
      expect(JSON.stringify(e)).not.toContain(GEMINI_KEY);
    } finally {
      await auditor.close();
    }
  });

  it('in managed mode authenticates a gateway key given as ?key= and never sends it upstream', async () => {
    up = await startDialectUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-query-key-'));
    const db = join(dir, 'tollgate.db');
    const config = loadConfig({
      file: null,
      overrides: {
        db,
        port: 0,
        upstream_url: `${up.origin}/v1beta`,
        instance_id: 'managed',
        mode: 'managed',
        'managed.provider_key': 'provider-held-key-0123456789abcdef',
      },
    });
    const tg = await startTollgate({ config, log: createLogger('silent') });
    const adminDb = openSqlite(db);
    try {
      const created = await createKey(
        new SqliteKeyStore(adminDb),
        { now: () => Date.now(), monotonic: () => performance.now() },
        { name: 'gemini-app' },
      );
      const res = await request(`${tg.url}${PATH}?alt=json&key=${encodeURIComponent(created.key)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: BODY,
      });
      expect(res.statusCode).toBe(200);
      const eventId = String(res.headers['x-tollgate-event-id']);
      await res.body.text();
      expect(up.seen).toHaveLength(1);
      expect(up.seen[0]!.url).toBe(`${PATH}?alt=json`);
      expect(up.seen[0]!.headers.authorization).toBe('Bearer provider-held-key-0123456789abcdef');
      await tg.writer.drain();
      const e = (await tg.store.get(eventId))!;
      expect(e.auth_method).toBe('query-key');
      expect(e.auth_result).toBe('SUCCESS');
      expect(e.virtual_key_id).toBe(created.record.id);
      expect(JSON.stringify(e)).not.toContain(created.key);
    } finally {
      adminDb.close();
      await tg.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
