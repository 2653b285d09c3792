import type { IncomingHttpHeaders } from 'node:http';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/doctor/doctor-report.js';
import { doctorReportToJson, formatDoctorReport } from '../../src/doctor/format-doctor-report.js';
import { runDoctor, type DoctorFetch } from '../../src/doctor/run-doctor.js';
import {
  closedPort,
  json,
  makeCert,
  startHttp,
  startHttps,
  type Handler,
  type Running,
  type TestCert,
} from './mock-upstream.js';

// A key with the look of a real one; the tests assert it never appears in any output.
const KEY = 'sk-proj-' + 'Q7f2'.repeat(12);
const SECRET_PART = KEY.slice(8);

const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

async function serve(handler: Handler): Promise<Running> {
  const r = await startHttp(handler);
  running.push(r);
  return r;
}

function finding(report: DoctorReport, id: string) {
  const f = report.findings.find((x) => x.id === id);
  expect(f, `finding ${id} in ${report.findings.map((x) => x.id).join(',')}`).toBeDefined();
  return f!;
}

function assertNoKey(report: DoctorReport): void {
  const all =
    doctorReportToJson(report) + formatDoctorReport(report) + formatDoctorReport(report, { color: true });
  expect(all).not.toContain(SECRET_PART);
  expect(all).not.toContain(SECRET_PART.slice(0, 12));
}

async function doctor(
  base: string,
  extra: Partial<Parameters<typeof runDoctor>[0]> = {},
): Promise<DoctorReport> {
  const report = await runDoctor({ upstreamUrl: base, apiKey: KEY, timeoutMs: 2000, ...extra });
  assertNoKey(report);
  return report;
}

describe('doctor against a loopback upstream', () => {
  it('healthy: lists the models, and sent the key as a Bearer token', async () => {
    let seen: IncomingHttpHeaders = {};
    const up = await serve((req, res) => {
      seen = req.headers;
      if (req.url !== '/v1/models') return json(res, 404, {});
      json(res, 200, {
        object: 'list',
        data: ['gpt-4o', 'gpt-4o-mini', 'o3', 'text-embedding-3-small', 'whisper-1', 'tts-1', 'dall-e-3'].map(
          (id) => ({ id, object: 'model' }),
        ),
      });
    });
    const report = await doctor(`${up.url}/v1`);
    expect(report.healthy).toBe(true);
    expect(seen.authorization).toBe(`Bearer ${KEY}`);
    const models = finding(report, 'models.list');
    expect(models).toMatchObject({ level: 'ok', title: '7 models available' });
    expect(models.detail).toContain('gpt-4o, gpt-4o-mini, o3');
    expect(models.detail).toContain('(+2 more)');
    expect(finding(report, 'http.models').level).toBe('ok');
    expect(report.keyPrefix).toBe('sk-proj-');
  });

  it('401: the key was rejected; shows the provider code, never the provider message', async () => {
    const up = await serve((_req, res) =>
      json(res, 401, {
        error: {
          message: `Incorrect API key provided: sk-proj-****${KEY.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      }),
    );
    const report = await doctor(`${up.url}/v1`);
    expect(report.healthy).toBe(false);
    const f = finding(report, 'http.models');
    expect(f).toMatchObject({ level: 'fail', title: 'The key was rejected (401)' });
    expect(f.detail).toContain('invalid_api_key');
    expect(f.detail).not.toContain('Incorrect API key');
    expect(f.fix).toMatch(/rotated/);
  });

  it('403: valid key, not allowed', async () => {
    const up = await serve((_req, res) =>
      json(res, 403, {
        error: {
          code: 'unsupported_country_region_territory',
          message: 'Country, region, or territory not supported',
        },
      }),
    );
    const f = finding(await doctor(`${up.url}/v1`), 'http.models');
    expect(f).toMatchObject({ level: 'fail', title: 'The key is valid but not allowed (403)' });
    expect(f.detail).toContain('unsupported_country_region_territory');
  });

  it('404 on a base URL without /v1: says the path is wrong and to add /v1', async () => {
    const up = await serve((req, res) =>
      req.url === '/v1/models' ? json(res, 200, { data: [] }) : json(res, 404, { error: 'not found' }),
    );
    const report = await doctor(up.url);
    expect(finding(report, 'url.path')).toMatchObject({ level: 'warn', title: 'The base URL has no /v1' });
    const f = finding(report, 'http.models');
    expect(f).toMatchObject({
      level: 'fail',
      title: 'Not found (404): the base URL path is wrong',
      fix: 'Add /v1 to the base URL.',
    });
  });

  it('429 with Retry-After: the key works, wait (a warning, still healthy)', async () => {
    const up = await serve((_req, res) =>
      json(
        res,
        429,
        { error: { code: 'rate_limit_exceeded', message: 'Rate limit reached' } },
        { 'retry-after': '20' },
      ),
    );
    const report = await doctor(`${up.url}/v1`);
    const f = finding(report, 'http.models');
    expect(f).toMatchObject({ level: 'warn', title: 'Rate limited (429)' });
    expect(f.detail).toContain('Retry-After: 20');
    expect(report.healthy).toBe(true);
  });

  it('429 insufficient_quota: out of credit, retrying will not help', async () => {
    const up = await serve((_req, res) =>
      json(res, 429, { error: { code: 'insufficient_quota', type: 'insufficient_quota' } }),
    );
    const report = await doctor(`${up.url}/v1`);
    expect(finding(report, 'http.models')).toMatchObject({ level: 'fail', title: 'Out of credit (429)' });
    expect(report.healthy).toBe(false);
  });

  it('503: not a key problem', async () => {
    const up = await serve((_req, res) => json(res, 503, { error: { type: 'overloaded_error' } }));
    const f = finding(await doctor(`${up.url}/v1`), 'http.models');
    expect(f).toMatchObject({ level: 'fail', title: 'Server error (503)' });
    expect(f.detail).toContain('not a key problem');
  });

  it('a redirect is reported, not followed with the key', async () => {
    let hits = 0;
    const up = await serve((_req, res) => {
      hits++;
      res.writeHead(301, { location: 'https://elsewhere.example/v1/models?token=abc' });
      res.end();
    });
    const f = finding(await doctor(`${up.url}/v1`), 'http.models');
    expect(f).toMatchObject({ level: 'fail', title: 'Redirected (301)' });
    expect(f.detail).toContain('https://elsewhere.example/v1/models');
    expect(f.detail).not.toContain('token=abc');
    expect(hits).toBe(1);
  });

  it('a web page instead of the API', async () => {
    const up = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Sign in</title>');
    });
    expect(finding(await doctor(`${up.url}/v1`), 'http.models')).toMatchObject({
      level: 'fail',
      title: 'Got a web page, not an API answer',
    });
  });

  it('hang: connected, but no first byte within the timeout', async () => {
    const up = await serve(() => {
      /* never answers */
    });
    const report = await doctor(`${up.url}/v1`, { timeoutMs: 300 });
    expect(finding(report, 'net.timeout')).toMatchObject({ level: 'fail', title: 'No response in time' });
    expect(report.healthy).toBe(false);
  });

  it('refused: nothing listens on the port', async () => {
    const port = await closedPort();
    const f = finding(await doctor(`http://127.0.0.1:${port}/v1`), 'net.connect');
    expect(f).toMatchObject({ level: 'fail', title: 'Connection refused' });
    expect(f.detail).toContain('ECONNREFUSED');
  });

  it('DNS: a .invalid host does not exist (RFC 6761 §6.4), and nothing is requested', async () => {
    let fetched = false;
    const spy: DoctorFetch = async () => {
      fetched = true;
      throw new Error('unreachable');
    };
    const report = await doctor('https://api.tollgate-doctor-test.invalid/v1', { fetch: spy });
    expect(finding(report, 'net.dns')).toMatchObject({
      level: 'fail',
      title: 'DNS: api.tollgate-doctor-test.invalid does not exist',
    });
    expect(fetched).toBe(false);
  });

  it('DNS: a resolver that does not answer is EAI_AGAIN, not "does not exist"', async () => {
    const report = await doctor('https://api.example.com/v1', {
      lookup: () => new Promise(() => undefined),
      timeoutMs: 50,
    });
    expect(finding(report, 'net.dns').title).toBe('DNS: could not resolve api.example.com right now');
  });

  it('Anthropic upstream: probes with x-api-key and anthropic-version', async () => {
    let seen: IncomingHttpHeaders = {};
    const up = await serve((req, res) => {
      seen = req.headers;
      json(res, 200, { data: [{ id: 'claude-sonnet-4-5', type: 'model' }], has_more: false });
    });
    const anthropicKey = 'sk-ant-api03-' + SECRET_PART + SECRET_PART;
    const report = await runDoctor({
      upstreamUrl: `${up.url}/v1`,
      apiKey: anthropicKey,
      provider: 'anthropic',
      timeoutMs: 2000,
    });
    expect(seen['x-api-key']).toBe(anthropicKey);
    expect(seen['anthropic-version']).toBe('2023-06-01');
    expect(seen.authorization).toBeUndefined();
    expect(finding(report, 'key.prefix')).toMatchObject({ level: 'ok', title: 'Prefix matches anthropic' });
    expect(report.healthy).toBe(true);
  });

  it('a trailing newline in the key: says where, and says the key itself works once stripped', async () => {
    let auth: string | undefined;
    const up = await serve((req, res) => {
      auth = req.headers.authorization;
      json(res, 200, { data: [{ id: 'm' }] });
    });
    const report = await doctor(`${up.url}/v1`, { apiKey: KEY + '\n' });
    const ws = finding(report, 'key.whitespace');
    expect(ws.level).toBe('fail');
    expect(ws.detail).toContain(`trailing newline (\\n) at position ${KEY.length + 1} of ${KEY.length + 1}`);
    expect(auth).toBe(`Bearer ${KEY}`);
    expect(finding(report, 'http.models').level).toBe('ok');
    expect(report.healthy).toBe(false);
  });
});

describe('doctor against a loopback TLS upstream', () => {
  let selfSigned: TestCert;
  let wrongHost: TestCert;
  let expired: TestCert;
  beforeAll(() => {
    selfSigned = makeCert({ commonName: 'localhost', altNames: 'DNS:localhost,IP:127.0.0.1', days: 1 });
    wrongHost = makeCert({ commonName: 'other.example', altNames: 'DNS:other.example', days: 1 });
    expired = makeCert({ commonName: 'localhost', altNames: 'DNS:localhost,IP:127.0.0.1', days: -1 });
  });
  const agents: Agent[] = [];
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.destroy()));
  });

  async function serveTls(cert: TestCert): Promise<Running> {
    const r = await startHttps(cert, (_req, res) => json(res, 200, { data: [{ id: 'm' }] }));
    running.push(r);
    return r;
  }

  /** A fetch that trusts `cert` as a CA, to reach the checks that come after chain validation. */
  function trusting(cert: TestCert): DoctorFetch {
    const agent = new Agent({ connect: { ca: cert.cert } });
    agents.push(agent);
    return (url, init) => undiciFetch(url, { ...init, dispatcher: agent });
  }

  it('self-signed certificate', async () => {
    const up = await serveTls(selfSigned);
    const f = finding(await doctor(`${up.url}/v1`), 'net.tls');
    expect(f).toMatchObject({ level: 'fail', title: 'TLS: self-signed certificate' });
    expect(f.detail).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(f.fix).toContain('NODE_EXTRA_CA_CERTS');
  });

  it('certificate for another host name', async () => {
    const up = await serveTls(wrongHost);
    const f = finding(await doctor(`${up.url}/v1`, { fetch: trusting(wrongHost) }), 'net.tls');
    expect(f).toMatchObject({ level: 'fail', title: 'TLS: certificate is for another host name' });
  });

  it('expired certificate', async () => {
    const up = await serveTls(expired);
    const f = finding(await doctor(`${up.url}/v1`, { fetch: trusting(expired) }), 'net.tls');
    expect(f).toMatchObject({ level: 'fail', title: 'TLS: certificate expired' });
  });

  it('a trusted certificate passes', async () => {
    const up = await serveTls(selfSigned);
    const report = await doctor(`${up.url}/v1`, { fetch: trusting(selfSigned) });
    expect(finding(report, 'net.tls')).toMatchObject({ level: 'ok', title: 'TLS certificate verified' });
    expect(report.healthy).toBe(true);
  });

  it('https:// pointed at a plain-http port', async () => {
    const up = await serve((_req, res) => json(res, 200, { data: [] }));
    const f = finding(await doctor(up.url.replace('http:', 'https:') + '/v1'), 'net.tls');
    expect(f.title).toBe('TLS handshake failed');
  });
});
