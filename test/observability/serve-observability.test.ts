import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MockProvider } from '../../src/mock-provider/mock-provider.js';
import { OtlpReceiver } from './otlp-receiver.js';

// Planted in the client's key, the prompt, attribution headers and a malformed body.
const PLANTED_KEY = 'sk-proj-Lq3Wm8Xv2Nc7Rb5Tz1Yk4Hd9Gf6Ja0Pe3Us8Io2By5Ct7Dr1Fs4Qw';
const PLANTED_SECRET = 'ghp_R7k2Lm9Qx4Vb8Nz3Wc6Ty1Hf5Jd0Ps2Ga7Ue';

describe('tollgate serve with metrics, OTLP and the JSONL sink (the real process)', () => {
  it('serves /metrics, exports to OTEL_EXPORTER_OTLP_ENDPOINT, writes JSONL files — and its own logs carry no secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-obs-serve-'));
    const mock = new MockProvider({ validKeys: [PLANTED_KEY] });
    const upstream = await mock.listen();
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.listen();
    const db = join(dir, 'data', 'tollgate.db');
    const jsonlDir = join(dir, 'jsonl');
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/bin.ts', 'serve', '--port', '0', '--upstream', upstream, '--db', db],
      {
        env: {
          ...process.env,
          // The most verbose operational log: nothing sensitive may reach it at any level.
          TOLLGATE_LOG_LEVEL: 'trace',
          TOLLGATE_JSONL_DIR: jsonlDir,
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-token=abc%20def',
          OTEL_BSP_SCHEDULE_DELAY: '50',
          OTEL_METRIC_EXPORT_INTERVAL: '200',
          TOLLGATE_OTEL_CAPTURE_CONTENT: 'true',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const poll = setInterval(() => {
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) {
            clearInterval(poll);
            resolve(m[1]!);
          }
        }, 20);
        proc.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err.slice(0, 400)}`)));
      });
      const post = async (
        model: string,
        opts: { key?: string; body?: string; stream?: boolean } = {},
      ): Promise<number> => {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${opts.key ?? PLANTED_KEY}`,
            'x-tollgate-user': `user ${PLANTED_SECRET}`,
            'x-tollgate-feature': 'support-bot',
          },
          body:
            opts.body ??
            JSON.stringify({
              model,
              stream: opts.stream === true,
              messages: [{ role: 'user', content: `deploy with ${PLANTED_SECRET} and ${PLANTED_KEY}` }],
            }),
        });
        await res.text();
        return res.status;
      };
      expect(await post('gpt-4.1')).toBe(200);
      expect(await post('gpt-4.1', { stream: true })).toBe(200);
      expect(await post('mock-error-500')).toBe(500);
      expect(await post('gpt-4.1', { key: `${PLANTED_KEY}x` })).toBe(401);
      expect(
        await post('gpt-4.1', { body: `{"model":"gpt-4.1","messages":[{"content":"${PLANTED_SECRET}"` }),
      ).toBe(400);

      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/tollgate_requests_total\{status="SUCCESS",model="[^"]+"\} 2/);
      expect(metrics).not.toContain(PLANTED_SECRET);
      expect(metrics).not.toContain('user ');

      proc.kill('SIGTERM');
      expect(await new Promise<number | null>((resolve) => proc.once('exit', resolve))).toBe(0);

      // OTLP: spans and metrics arrived (shutdown flushed them), without the secrets.
      expect(receiver.spans.length).toBeGreaterThanOrEqual(4);
      expect(receiver.points.some((p) => p.metric === 'gen_ai.client.token.usage')).toBe(true);
      expect(
        receiver.spans.some((s) =>
          String(s.attributes['gen_ai.input.messages'] ?? '').includes('[REDACTED:'),
        ),
      ).toBe(true);
      const exported = receiver.allBytes();
      expect(exported.includes(Buffer.from(PLANTED_SECRET))).toBe(false);
      expect(exported.includes(Buffer.from(PLANTED_KEY.slice(8)))).toBe(false);

      // The JSONL sink: one line per event, redacted like the store.
      const files = readdirSync(jsonlDir);
      expect(files.length).toBe(1);
      const lines = readFileSync(join(jsonlDir, files[0]!), 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(5);
      const jsonl = lines.join('\n');
      expect(jsonl).not.toContain(PLANTED_SECRET);
      expect(jsonl).not.toContain(PLANTED_KEY.slice(8));

      // Tollgate's own operational log (pino JSON lines on stderr, beside a few one-time notices for
      // the operator): not one line carries the secrets, the key (or any 12-character piece of
      // either), the prompt, or the OTLP header value.
      const logLines = err.split('\n').filter((l) => l.startsWith('{'));
      expect(logLines.length).toBeGreaterThan(2);
      for (const l of logLines) expect(() => JSON.parse(l) as unknown).not.toThrow();
      const everything = out + err;
      for (const s of [PLANTED_SECRET, PLANTED_KEY]) {
        for (let i = 0; i + 12 <= s.length; i += 4) expect(everything).not.toContain(s.slice(i, i + 12));
      }
      expect(everything).not.toContain('abc def');
      expect(everything).not.toContain('deploy with');
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await mock.close();
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
