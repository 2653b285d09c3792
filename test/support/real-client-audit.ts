/**
 * What the real-client tests share: a gateway with three providers in front of the dialect
 * upstream (each client speaks its own API to it), an SDK auditor configured the same way, the
 * keys each client sends, and one check of a stored event — provider, model, tokens, cost,
 * finish reason, time to first token (for a stream: the delayed first content token), key
 * fingerprint, redacted content, and no raw key anywhere in it.
 */
import { expect } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { keyFingerprint } from '../../src/access/key-fingerprint.js';
import { keyPrefix } from '../../src/access/key-prefix.js';
import { createRedactor } from '../../src/redaction/redactor.js';
import type { Auditor } from '../../src/sdk/index.js';
import { harnessLikeAuditor } from '../sdk/sdk-support.js';
import { startHarness, type Harness } from './gateway-harness.js';
import {
  FIRST_TOKEN_DELAY_MS,
  REPLY,
  startDialectUpstream,
  type DialectUpstream,
} from './dialect-upstreams.js';

export const OPENAI_KEY = 'sk-proj-REALCLIENTkey0123456789abcdefghijklmnopqrstuvw';
export const ANTHROPIC_KEY = 'sk-ant-api03-REALCLIENTkey0123456789abcdefghijklmnopqrstuvw';
export const GEMINI_KEY = 'AIzaSyREALCLIENTkey0123456789abcdefghijkl';

/** A prompt with personal data the default redactor must take out before it is stored. */
export const PII = 'jane.doe@example.com';
export const PROMPT = `Write to ${PII} about the invoice`;

export interface RealClientSetup {
  up: DialectUpstream;
  h: Harness;
  /** The gateway's origin (`http://127.0.0.1:PORT`, no path). */
  origin: string;
  close(): Promise<void>;
}

/**
 * The dialect upstream behind a gateway routing by model, as a team would configure it: OpenAI
 * models to `/v1`, `claude-*` to Anthropic, `gemini-*` to Gemini. Content is stored redacted
 * (the default policy).
 */
export async function startRealClientGateway(): Promise<RealClientSetup> {
  const up = await startDialectUpstream();
  const h = await startHarness({
    redactor: createRedactor(),
    providers: [
      {
        name: 'openai',
        api: 'openai',
        base_url: `${up.origin}/v1`,
        models: ['gpt-*', 'text-embedding-*'],
        fallback: [],
      },
      { name: 'anthropic', api: 'anthropic', base_url: up.origin, models: ['claude-*'], fallback: [] },
      { name: 'gemini', api: 'gemini', base_url: up.origin, models: ['gemini-*'], fallback: [] },
    ],
  });
  return {
    up,
    h,
    origin: h.baseURL.replace(/\/v1$/, ''),
    async close() {
      await h.close();
      await up.close();
    },
  };
}

/** An SDK auditor as the gateway harness is configured, with the default redactor. */
export function realClientAuditor(): Promise<Auditor> {
  return harnessLikeAuditor({ redactor: createRedactor(), provider: undefined });
}

export interface RealClientSdkSetup {
  up: DialectUpstream;
  auditor: Auditor;
  close(): Promise<void>;
}

/** The dialect upstream and an SDK auditor: the in-process half of each real-client test. */
export async function startRealClientSdk(): Promise<RealClientSdkSetup> {
  const up = await startDialectUpstream();
  const auditor = await realClientAuditor();
  return {
    up,
    auditor,
    async close() {
      await auditor.close();
      await up.close();
    },
  };
}

export interface ExpectedEvent {
  provider: string;
  endpoint: string;
  model: string;
  /** The model the answer names; default `model`, null when the answer names none (transcriptions). */
  modelUsed?: string | null;
  stream: boolean;
  key: string;
  authMethod: string;
  input: number;
  /** null for APIs without output tokens (embeddings). */
  output: number | null;
  cached?: number;
  /** Prompt-cache writes (Anthropic); default null (the provider reports none). */
  cacheWrite?: number | null;
  /** From the catalog's rates, worked out by hand in the test; null when the model has no price. */
  cost: number | null;
  finishReason: string | null;
  /** The stored response text (null for APIs without one, e.g. embeddings). */
  response?: string | null;
}

/** Checks one stored event of a real client's call. */
export function expectAuditedCall(e: AuditEvent | undefined, x: ExpectedEvent): void {
  expect(e).toBeDefined();
  const ev = e!;
  expect(ev.status).toBe('SUCCESS');
  expect(ev.error_code).toBeNull();
  expect(ev.http_status_code).toBe(200);
  expect(ev.api_provider).toBe(x.provider);
  expect(ev.endpoint).toBe(x.endpoint);
  expect(ev.model_requested).toBe(x.model);
  expect(ev.model_used).toBe(x.modelUsed === undefined ? x.model : x.modelUsed);
  expect(ev.stream).toBe(x.stream);
  expect(ev.auth_method).toBe(x.authMethod);
  expect(ev.api_key_id).toBe(keyFingerprint(Buffer.from('test-fingerprint-secret'), x.key));
  expect(ev.api_key_prefix).toBe(keyPrefix(x.key));
  expect(ev.usage_source).toBe('reported');
  expect(ev.input_tokens).toBe(x.input);
  expect(ev.output_tokens).toBe(x.output);
  expect(ev.total_tokens).toBe(x.input + (x.output ?? 0));
  expect(ev.cached_input_tokens ?? 0).toBe(x.cached ?? 0);
  expect(ev.cache_write_tokens).toBe(x.cacheWrite ?? null);
  expect(ev.cost_micro_usd).toBe(x.cost);
  expect(ev.finish_reason).toBe(x.finishReason);
  expect(ev.time_to_first_token_ms).not.toBeNull();
  if (x.stream) {
    // The dialect upstream sends the first content token FIRST_TOKEN_DELAY_MS after the headers and
    // opening events, and the end as long after it: TTFT is the token, not the first byte nor the end.
    expect(ev.time_to_first_token_ms!).toBeGreaterThanOrEqual(FIRST_TOKEN_DELAY_MS);
    expect(ev.latency_ms! - ev.time_to_first_token_ms!).toBeGreaterThanOrEqual(FIRST_TOKEN_DELAY_MS / 3);
  }
  expect(ev.content_mode).toBe('redacted');
  expect(ev.prompt).toContain('[REDACTED:email]');
  expect(ev.response).toBe(x.response === undefined ? REPLY : x.response);
  expect(ev.redactions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'email' })]));
  const stored = JSON.stringify(ev);
  expect(stored).not.toContain(PII);
  expect(stored).not.toContain(x.key);
}
