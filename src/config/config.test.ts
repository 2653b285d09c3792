import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, loadConfig, writerBatchSize } from './config.js';
import { loadOrCreateSecret } from './local-secret.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('defaults that protect people (DESIGN.md)', () => {
  it('binds loopback only, on 8787', () => {
    expect(DEFAULT_CONFIG.host).toBe('127.0.0.1');
    expect(DEFAULT_CONFIG.port).toBe(8787);
  });
  it('stores content redacted', () => expect(DEFAULT_CONFIG.content.mode).toBe('redacted'));
  it('keeps serving but never drops silently when the store is down (fail-open with a spool)', () => {
    expect(DEFAULT_CONFIG.failure_policy).toBe('fail-open');
    expect(DEFAULT_CONFIG.spool.max_bytes).toBeGreaterThan(0);
  });
  it('uses the embedded SQLite store at ./data/tollgate.db', () =>
    expect(DEFAULT_CONFIG.db).toBe('./data/tollgate.db'));
  it('does not trust X-Forwarded-For unless told', () => expect(DEFAULT_CONFIG.trust_proxy).toBe(false));
  it('passes the client key through unless managed mode is chosen', () =>
    expect(DEFAULT_CONFIG.mode).toBe('passthrough'));
  it('creates the fingerprint secret with mode 0600 and tightens a loosened one', () => {
    const p = join(dir, 'secrets', 'fingerprint.key');
    const first = loadOrCreateSecret(p);
    expect(first.created).toBe(true);
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(first.secret).toHaveLength(32);
    const again = loadOrCreateSecret(p);
    expect(again.created).toBe(false);
    expect(again.secret.equals(first.secret)).toBe(true);
  });
});

describe('loadConfig', () => {
  it('layers file < environment < flags', () => {
    const file = join(dir, 'tollgate.config.yaml');
    writeFileSync(
      file,
      'port: 9000\nupstream_url: https://api.deepseek.com/v1\ncontent:\n  mode: full\nretry:\n  max_retries: 5\n',
    );
    const c = loadConfig({
      file,
      env: { TOLLGATE_PORT: '9100', TOLLGATE_CONTENT_MODE: 'none' },
      overrides: { port: '9200' },
    });
    expect(c.port).toBe(9200);
    expect(c.content.mode).toBe('none');
    expect(c.upstream_url).toBe('https://api.deepseek.com/v1');
    expect(c.retry.max_retries).toBe(5);
    expect(c.retry.base_delay_ms).toBe(DEFAULT_CONFIG.retry.base_delay_ms);
  });
  it('refuses bad values with TG_ERR_CONFIG_INVALID naming the field', () => {
    expect(() => loadConfig({ overrides: { port: 'eighty' } })).toThrow(/TG_ERR_CONFIG_INVALID/);
    expect(() => loadConfig({ overrides: { failure_policy: 'maybe' } })).toThrow(/TG_ERR_CONFIG_INVALID/);
    expect(() => loadConfig({ overrides: { upstream_url: 'ftp://x' } })).toThrow(/TG_ERR_CONFIG_INVALID/);
    expect(() => loadConfig({ overrides: { 'content.mode': 'plaintext' } })).toThrow(/TG_ERR_CONFIG_INVALID/);
  });
  it('takes a preset name for the upstream, and a providers list', () => {
    expect(loadConfig({ overrides: { upstream_url: 'deepseek' } }).upstream_url).toBe(
      'https://api.deepseek.com/v1',
    );
    expect(loadConfig({ overrides: { upstream_url: 'groq' } }).upstream_url).toBe(
      'https://api.groq.com/openai/v1',
    );
    expect(() => loadConfig({ overrides: { upstream_url: 'nosuchpreset' } })).toThrow(
      /TG_ERR_CONFIG_INVALID/,
    );
    const file = join(dir, 'providers.yaml');
    writeFileSync(
      file,
      'providers:\n  - { name: anthropic, api: anthropic, base_url: https://api.anthropic.com, models: ["claude-*"] }\n',
    );
    expect(loadConfig({ file }).providers).toEqual([
      {
        name: 'anthropic',
        api: 'anthropic',
        base_url: 'https://api.anthropic.com',
        models: ['claude-*'],
        fallback: [],
        key_file: null,
      },
    ]);
  });
  it('refuses a config file that is not a mapping', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, '- just\n- a list\n');
    expect(() => loadConfig({ file })).toThrow(/TG_ERR_CONFIG_INVALID/);
  });
  it('sizes writer batches by store kind unless writer.batch_size is set', () => {
    expect(writerBatchSize(loadConfig({}))).toBe(512);
    expect(
      writerBatchSize(loadConfig({ env: { TOLLGATE_DB: 'postgres://postgres@127.0.0.1:5432/test' } })),
    ).toBe(2048);
    expect(
      writerBatchSize(
        loadConfig({ env: { TOLLGATE_DB: 'postgresql://db/x' }, overrides: { 'writer.batch_size': '100' } }),
      ),
    ).toBe(100);
    expect(() => loadConfig({ overrides: { 'writer.batch_size': 'lots' } })).toThrow(/TG_ERR_CONFIG_INVALID/);
  });
  it('refuses a writer batch or flush threshold of zero or a fraction (a batch of none never drains)', () => {
    for (const key of ['writer.batch_size', 'writer.flush_events'])
      for (const value of ['0', '-1', '2.5'])
        expect(() => loadConfig({ overrides: { [key]: value } }), `${key}: ${value}`).toThrow(
          /TG_ERR_CONFIG_INVALID/,
        );
    expect(loadConfig({ overrides: { 'writer.flush_events': '1' } }).writer.flush_events).toBe(1);
  });
});
