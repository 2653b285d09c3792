import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TollgateError } from '../core/errors.js';
import { nearestKey } from './config-error.js';
import { loadConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-config-error-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Loads `yaml` as a config file; returns the error's detail (fails the test when it loads). */
function refusal(yaml: string, env: Record<string, string> = {}): Record<string, unknown> {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, yaml);
  try {
    loadConfig({ file, env });
  } catch (err) {
    expect(err).toBeInstanceOf(TollgateError);
    expect((err as TollgateError).code).toBe('TG_ERR_CONFIG_INVALID');
    return { ...(err as TollgateError).detail, file };
  }
  throw new Error(`loaded: ${yaml}`);
}

describe('unknown keys fail with the nearest valid key', () => {
  it('a typo: failure_polcy -> failure_policy (it must never run fail-open silently)', () => {
    const d = refusal('failure_polcy: fail-closed\n');
    expect(d).toMatchObject({
      field: 'failure_polcy',
      problem: 'unknown key',
      did_you_mean: 'failure_policy',
    });
    expect(d.from).toBe(d.file);
  });
  it('a shortened key: upstream -> upstream_url (it must never send traffic to the default)', () => {
    expect(refusal('upstream: http://127.0.0.1:9/v1\n')).toMatchObject({
      field: 'upstream',
      did_you_mean: 'upstream_url',
    });
  });
  it('retries -> retry', () => {
    expect(refusal('retries: 3\n')).toMatchObject({ field: 'retries', did_you_mean: 'retry' });
  });
  it('names a nested key by its full path and suggests its sibling', () => {
    expect(refusal('retry:\n  max_retris: 3\n')).toMatchObject({
      field: 'retry.max_retris',
      did_you_mean: 'retry.max_retries',
    });
    expect(refusal('sinks:\n  jsonl:\n    max_file: 3\n')).toMatchObject({
      field: 'sinks.jsonl.max_file',
      did_you_mean: 'sinks.jsonl.max_files',
    });
  });
  it('a key put at the wrong level: suggests where it belongs', () => {
    expect(refusal('max_retries: 3\n')).toMatchObject({
      field: 'max_retries',
      did_you_mean: 'retry.max_retries',
    });
  });
  it('in a detection rule and in a budget', () => {
    expect(refusal('detection:\n  volume.spike:\n    multipler: 4\n')).toMatchObject({
      field: 'detection.volume.spike.multipler',
      did_you_mean: 'detection.volume.spike.multiplier',
    });
    expect(refusal('detection:\n  volume.spikes: false\n')).toMatchObject({
      field: 'detection.volume.spikes',
      did_you_mean: 'detection.volume.spike',
    });
    expect(
      refusal('budgets:\n  - {scope: user, subject: alice, period: day, limt_usd: 5, enforce: true}\n'),
    ).toMatchObject({ field: 'budgets.0.limt_usd', did_you_mean: 'budgets.0.limit_usd' });
  });
  it('in the redaction detector switches', () => {
    expect(refusal('content:\n  detectors:\n    emial: false\n')).toMatchObject({
      field: 'content.detectors.emial',
      did_you_mean: 'content.detectors.email',
    });
  });
  it('no suggestion when nothing is near', () => {
    const d = refusal('zzzzzzzz: 1\n');
    expect(d).toMatchObject({ field: 'zzzzzzzz', problem: 'unknown key' });
    expect(d).not.toHaveProperty('did_you_mean');
  });
  it('never repeats the value (it may be a secret in the wrong place)', () => {
    const file = join(dir, 'secret.yaml');
    writeFileSync(file, 'admin_tokn: tg-canary-5ecret\nmaster_key: 12345\n');
    let text = '';
    try {
      loadConfig({ file });
    } catch (err) {
      text = `${(err as Error).message} ${JSON.stringify((err as TollgateError).detail)}`;
    }
    expect(text).toContain('admin_tokn');
    expect(text).not.toContain('tg-canary-5ecret');
    expect(text).not.toContain('12345');
  });
});

describe('wrong types fail naming the key and what it expected', () => {
  it('in the file', () => {
    expect(refusal('port: eighty\n')).toMatchObject({ field: 'port', problem: 'expected number' });
    expect(refusal('trust_proxy: "yes"\n')).toMatchObject({
      field: 'trust_proxy',
      problem: 'expected boolean',
    });
    expect(refusal('content:\n  mode: plaintext\n')).toMatchObject({
      field: 'content.mode',
      problem: 'expected one of none, redacted, full, encrypted',
    });
    expect(refusal('retry: 3\n')).toMatchObject({ field: 'retry', problem: 'expected object' });
    expect(refusal('port: 70000\n')).toMatchObject({ field: 'port', problem: 'must be <= 65535' });
    expect(refusal('detection:\n  errors.rate:\n    threshold: high\n')).toMatchObject({
      field: 'detection.errors.rate.threshold',
    });
    expect(refusal('redis_url: http://x\n')).toMatchObject({ field: 'redis_url' });
  });
  it('from the environment, naming the variable', () => {
    expect(refusal('', { TOLLGATE_PORT: 'abc' })).toMatchObject({
      field: 'port',
      problem: 'expected number',
      from: 'TOLLGATE_PORT',
    });
    expect(refusal('', { TOLLGATE_TRUST_PROXY: 'perhaps' })).toMatchObject({
      field: 'trust_proxy',
      from: 'TOLLGATE_TRUST_PROXY',
    });
  });
  it('from a flag', () => {
    expect(() => loadConfig({ overrides: { 'lockout.max_failurs': '3' } })).toThrow(
      expect.objectContaining({
        detail: expect.objectContaining({
          field: 'lockout.max_failurs',
          did_you_mean: 'lockout.max_failures',
          from: 'flag',
        }),
      }),
    );
  });
  it('a webhook without its secret', () => {
    expect(refusal('alerts:\n  webhook_url: https://hooks.example/x\n')).toMatchObject({
      field: 'alerts.webhook_secret',
    });
  });
});

describe('what still loads', () => {
  it('env and flag text takes the key type; an empty section keeps its defaults', () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'alerts:\nretry:\n  max_retries: 4\ndetection:\n  volume.spike: false\n');
    const c = loadConfig({
      file,
      env: { TOLLGATE_TRUST_PROXY: 'true', TOLLGATE_BODY_LIMIT_BYTES: '1024' },
      overrides: { 'metrics.user_label': 'true', 'writer.batch_size': 'null' },
    });
    expect(c.trust_proxy).toBe(true);
    expect(c.body_limit_bytes).toBe(1024);
    expect(c.metrics.user_label).toBe(true);
    expect(c.writer.batch_size).toBeNull();
    expect(c.retry.max_retries).toBe(4);
    expect(c.alerts.webhook_url).toBeNull();
    expect(c.detection['volume.spike']).toBe(false);
  });
});

describe('nearestKey', () => {
  it('prefers a key the word starts, then the closest within a third of its length', () => {
    expect(nearestKey('upstream', ['port', 'upstream_url'])).toBe('upstream_url');
    expect(nearestKey('failure_polcy', ['failure_policy', 'redis_failure_policy'])).toBe('failure_policy');
    expect(nearestKey('prot', ['port', 'host'])).toBe('port');
    expect(nearestKey('database', ['db', 'host'])).toBeNull();
  });
});
