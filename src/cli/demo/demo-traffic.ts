/**
 * The scripted traffic of `tollgate demo`: a few people using a few product features through
 * the gateway, with the incidents a team meets in production mixed in.
 */
import { seededRandom } from '../../core/seeded-random.js';

export interface DemoRequest {
  /** What this request shows, for the narration. */
  label: string;
  /** The path on the gateway (`/v1/chat/completions`, `/v1/messages`, `/v1beta/models/…`). */
  path: string;
  key: string;
  /** The header the key travels in (default `authorization: Bearer`). */
  keyHeader?: 'x-api-key' | 'x-goog-api-key';
  headers: Record<string, string>;
  body: Record<string, unknown>;
  /** Abort the request once the first content token has arrived (a client that gives up mid-stream). */
  abortAfterFirstToken?: boolean;
}

export const DEMO_GOOD_KEY = 'sk-proj-DEMOkeyDoNotUse0123456789abcdefghijklmnopqrstuv';
/** The team's Anthropic key (sent in `x-api-key`). */
export const DEMO_ANTHROPIC_KEY = 'sk-ant-api03-DEMOkeyDoNotUse0123456789abcdefghijklmnopqrstuvwxyz-AA';
/** The team's Gemini key (sent in `x-goog-api-key`). */
export const DEMO_GEMINI_KEY = 'AIzaSyDEMOkeyDoNotUse0123456789abcdefgh';
/** The user whose small enforced daily budget the demo runs past. */
export const DEMO_BUDGET_USER = 'frank';
/** Her budget: one worst case of her requests fits, two do not. */
export const DEMO_BUDGET_USD = 0.0005;

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;
const FEATURES = ['chat', 'search', 'summarize', 'support-bot'] as const;
const MODELS = ['gpt-4.1', 'gpt-4.1-mini', 'gpt-4o-mini'] as const;
const QUESTIONS = [
  'How do I reset my password?',
  'Summarize the quarterly report in three bullet points.',
  'What is the difference between TCP and UDP?',
  'Draft a polite reply to a customer asking for a refund.',
  'Explain the retry policy of our billing service.',
  'Translate "good morning" into French and German.',
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function attribution(user: string, session: string, feature: string): Record<string, string> {
  return {
    'x-tollgate-user': user,
    'x-tollgate-session': session,
    'x-tollgate-feature': feature,
    'x-tollgate-team': feature === 'support-bot' ? 'support' : 'product',
    'x-tollgate-source': 'demo-app',
  };
}

/** Builds the demo's requests in the order they are sent. */
export function demoTraffic(seed = 7): DemoRequest[] {
  const r = seededRandom(seed);
  const out: DemoRequest[] = [];
  // Ordinary use: chats, some streamed, some embeddings.
  for (let i = 0; i < 60; i++) {
    const user = pick(r, USERS);
    const feature = pick(r, FEATURES);
    const session = `${user}-s${1 + Math.floor(r() * 3)}`;
    const stream = r() < 0.3;
    if (feature === 'search' && r() < 0.5) {
      out.push({
        label: 'embedding',
        path: '/v1/embeddings',
        key: DEMO_GOOD_KEY,
        headers: attribution(user, session, feature),
        body: { model: 'text-embedding-3-small', input: pick(r, QUESTIONS) },
      });
      continue;
    }
    out.push({
      label: stream ? 'streamed chat' : 'chat',
      path: '/v1/chat/completions',
      key: DEMO_GOOD_KEY,
      headers: attribution(user, session, feature),
      body: { model: pick(r, MODELS), messages: [{ role: 'user', content: pick(r, QUESTIONS) }], stream },
    });
  }
  // The same product also calls Claude (Anthropic Messages), Gemini and OpenAI's Responses API,
  // all through the one gateway (config `providers:`, routed by model).
  const others = otherProviderTraffic(seed + 1);
  for (let i = 0; i < others.length; i++) out.splice(3 + i * 3, 0, others[i]!);
  const incidents: DemoRequest[] = [];
  // A secret and personal data pasted into prompts: stored redacted.
  incidents.push({
    label: 'prompt with a leaked AWS key and an e-mail address',
    path: '/v1/chat/completions',
    key: DEMO_GOOD_KEY,
    headers: attribution('bob', 'bob-s1', 'support-bot'),
    body: {
      model: 'gpt-4.1-mini',
      messages: [
        {
          role: 'user',
          content:
            'My deploy fails. Config: AWS_ACCESS_KEY_ID=AKIAQ3EGRSW7NPJT6XZK aws_secret_access_key=Jx7k2Lq9Vb4Np8Rt6Wy3Zc1Hd5Fg0Mk2Sa8Qe4Tu mail me at bob.builder@example.com',
        },
      ],
    },
  });
  // Credential stuffing: many wrong keys from one client.
  for (let i = 0; i < 8; i++) {
    incidents.push({
      label: 'wrong API key (credential stuffing)',
      path: '/v1/chat/completions',
      key: `sk-proj-STOLEN${i}x${Math.floor(r() * 1e9).toString(36)}abcdefghijklmnopqrstuvwxyz012345`,
      headers: { 'x-tollgate-source': 'unknown-script', 'user-agent': 'python-requests/2.31' },
      body: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'ping' }] },
    });
  }
  // The provider has a bad minute: errors and rate limits.
  for (let i = 0; i < 4; i++) {
    incidents.push({
      label: 'provider 500',
      path: '/v1/chat/completions',
      key: DEMO_GOOD_KEY,
      headers: attribution('carol', 'carol-s2', 'summarize'),
      body: { model: 'mock-error-500', messages: [{ role: 'user', content: 'summarize this' }] },
    });
  }
  incidents.push({
    label: 'provider 429',
    path: '/v1/chat/completions',
    key: DEMO_GOOD_KEY,
    headers: attribution('dave', 'dave-s1', 'chat'),
    body: { model: 'mock-rate-limit', messages: [{ role: 'user', content: 'hello' }] },
  });
  // A stream the provider cuts off, and a user who closes the tab mid-answer.
  incidents.push({
    label: 'stream cut by the provider',
    path: '/v1/chat/completions',
    key: DEMO_GOOD_KEY,
    headers: attribution('erin', 'erin-s1', 'chat'),
    body: {
      model: 'mock-truncate',
      messages: [{ role: 'user', content: 'tell me a long story' }],
      stream: true,
    },
  });
  incidents.push({
    label: 'client gave up mid-stream',
    path: '/v1/chat/completions',
    key: DEMO_GOOD_KEY,
    headers: attribution('alice', 'alice-s2', 'chat'),
    body: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'write an essay' }], stream: true },
    // The demo's stream takes at least 8 × 15 ms; the client gives up once it has read the first
    // words (a timer from the request's start came before the first token on a loaded machine).
    abortAfterFirstToken: true,
  });
  // A model nobody priced: its cost is unknown (null), never $0.
  incidents.push({
    label: 'unpriced model',
    path: '/v1/chat/completions',
    key: DEMO_GOOD_KEY,
    headers: attribution('erin', 'erin-s2', 'search'),
    body: { model: 'acme-llm-preview', messages: [{ role: 'user', content: 'hello' }] },
  });
  // A user past her daily budget (config `budgets:`, enforced): the first request fits its worst
  // case, the next ones do not and are refused before the provider sees them.
  for (let i = 0; i < 3; i++)
    incidents.push({
      label: 'request past a daily budget',
      path: '/v1/chat/completions',
      key: DEMO_GOOD_KEY,
      headers: attribution(DEMO_BUDGET_USER, `${DEMO_BUDGET_USER}-s1`, 'chat'),
      body: { model: 'gpt-4.1', max_tokens: 50, messages: [{ role: 'user', content: pick(r, QUESTIONS) }] },
    });
  // The silent token leak: a session that resends its whole, growing history.
  const history: Array<{ role: string; content: string }> = [];
  for (let i = 0; i < 14; i++) {
    history.push({
      role: 'user',
      content: `${pick(r, QUESTIONS)} (turn ${i + 1}) ${'context '.repeat(250 * (i + 1))}`,
    });
    incidents.push({
      label: 'session resending its growing history',
      path: '/v1/chat/completions',
      key: DEMO_GOOD_KEY,
      headers: attribution('dave', 'dave-runaway-tab', 'support-bot'),
      body: { model: 'gpt-4.1', messages: [...history] },
    });
    history.push({ role: 'assistant', content: 'Sure, here is what I found.' });
  }
  // Interleave incidents with ordinary traffic so the story unfolds over time.
  const merged: DemoRequest[] = [];
  const step = Math.max(1, Math.floor(out.length / incidents.length));
  let j = 0;
  for (let i = 0; i < out.length; i++) {
    merged.push(out[i]!);
    if (i % step === step - 1 && j < incidents.length) merged.push(incidents[j++]!);
  }
  while (j < incidents.length) merged.push(incidents[j++]!);
  return merged;
}

const CLAUDE_MODELS = ['claude-sonnet-4-5', 'claude-haiku-4-5'] as const;
const GEMINI_MODELS = ['gemini-2.5-flash', 'gemini-2.5-pro'] as const;

/** Requests to the other provider APIs: Anthropic Messages, Gemini generateContent, OpenAI Responses. */
function otherProviderTraffic(seed: number): DemoRequest[] {
  const r = seededRandom(seed);
  const out: DemoRequest[] = [];
  for (let i = 0; i < 18; i++) {
    const user = pick(r, USERS);
    const feature = pick(r, FEATURES);
    const headers = attribution(user, `${user}-s${1 + Math.floor(r() * 3)}`, feature);
    const question = pick(r, QUESTIONS);
    const stream = i % 2 === 1;
    if (i % 3 === 0) {
      out.push({
        label: stream ? 'streamed Claude message' : 'Claude message',
        path: '/v1/messages',
        key: DEMO_ANTHROPIC_KEY,
        keyHeader: 'x-api-key',
        headers: { ...headers, 'anthropic-version': '2023-06-01' },
        body: {
          model: pick(r, CLAUDE_MODELS),
          max_tokens: 256,
          messages: [{ role: 'user', content: question }],
          stream,
        },
      });
    } else if (i % 3 === 1) {
      const model = pick(r, GEMINI_MODELS);
      out.push({
        label: stream ? 'streamed Gemini answer' : 'Gemini answer',
        path: `/v1beta/models/${model}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
        key: DEMO_GEMINI_KEY,
        keyHeader: 'x-goog-api-key',
        headers,
        body: { contents: [{ role: 'user', parts: [{ text: question }] }] },
      });
    } else {
      out.push({
        label: stream ? 'streamed OpenAI response' : 'OpenAI response',
        path: '/v1/responses',
        key: DEMO_GOOD_KEY,
        headers,
        body: { model: 'gpt-4.1-mini', input: question, stream },
      });
    }
  }
  return out;
}
