import { describe, expect, it } from 'vitest';
import { checkBaseUrl, isLocalHost } from '../../src/doctor/url-checks.js';

const byId = (r: ReturnType<typeof checkBaseUrl>, id: string) => r.findings.find((f) => f.id === id);

describe('checkBaseUrl', () => {
  it('the canonical OpenAI base URL is fine', () => {
    const r = checkBaseUrl('https://api.openai.com/v1');
    expect(r.provider?.id).toBe('openai');
    expect(r.findings.every((f) => f.level === 'ok')).toBe(true);
  });

  it('missing /v1 on a known provider host', () => {
    expect(byId(checkBaseUrl('https://api.openai.com'), 'url.path')).toMatchObject({
      level: 'fail',
      title: 'The base URL is missing /v1',
      fix: 'Use https://api.openai.com/v1',
    });
  });

  it('a console host instead of the API', () => {
    expect(byId(checkBaseUrl('https://platform.openai.com/v1'), 'url.host')).toMatchObject({
      level: 'fail',
      fix: 'Use https://api.openai.com/v1',
    });
    expect(byId(checkBaseUrl('https://console.anthropic.com'), 'url.host')?.fix).toBe(
      'Use https://api.anthropic.com/v1',
    );
  });

  it('plain http: refused for a public host, fine for loopback and private addresses', () => {
    expect(byId(checkBaseUrl('http://api.deepseek.com/v1'), 'url.scheme')?.level).toBe('fail');
    for (const u of [
      'http://127.0.0.1:11434/v1',
      'http://localhost:8000/v1',
      'http://10.1.2.3/v1',
      'http://vllm:8000/v1',
      'http://[::1]:8000/v1',
    ]) {
      expect(byId(checkBaseUrl(u), 'url.scheme')?.level, u).toBe('ok');
    }
    expect(isLocalHost('8.8.8.8')).toBe(false);
  });

  it('an endpoint in the base URL', () => {
    expect(byId(checkBaseUrl('https://api.openai.com/v1/chat/completions'), 'url.path')).toMatchObject({
      level: 'fail',
      fix: 'Use https://api.openai.com/v1',
    });
  });

  it('an unknown host without a version: a warning', () => {
    expect(byId(checkBaseUrl('http://localhost:11434'), 'url.path')).toMatchObject({
      level: 'warn',
      fix: 'Try http://localhost:11434/v1',
    });
    expect(byId(checkBaseUrl('https://llm.internal.example/openai/v1'), 'url.path')?.level).toBe('ok');
  });

  it('credentials in the URL: warned about and never displayed', () => {
    const r = checkBaseUrl('https://user:hunter2@api.openai.com/v1?key=abc');
    expect(byId(r, 'url.credentials')?.level).toBe('warn');
    expect(r.display).toBe('https://api.openai.com/v1');
    expect(r.url?.href).toBe('https://api.openai.com/v1');
  });

  it('not a URL', () => {
    expect(checkBaseUrl('api.openai.com/v1')).toMatchObject({
      url: null,
      findings: [{ id: 'url.valid', level: 'fail' }],
    });
    expect(checkBaseUrl('ftp://x/v1').url).toBeNull();
  });
});
