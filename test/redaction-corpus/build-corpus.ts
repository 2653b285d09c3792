/**
 * Builds the labelled redaction corpus (corpus.jsonl): secrets and personal data planted in
 * prompts, tool-call arguments, streamed-response fragments and header values, plus
 * look-alikes that must be kept. Seeded, so it is reproducible:
 *
 *     npx tsx test/redaction-corpus/build-corpus.ts > test/redaction-corpus/corpus.jsonl
 */
import { FakeData, seededRandom } from './fake-secrets.js';

export interface CorpusEntry {
  id: string;
  /** Where the text sits in an exchange. */
  context: 'prompt' | 'tool_args' | 'stream' | 'header';
  /** For `stream`: the SSE fragments; `text` is their concatenation. */
  chunks?: string[];
  text: string;
  /** Planted values; an empty list marks a look-alike sample that must stay untouched. */
  expected: { type: string; value: string }[];
}

const PROMPTS = [
  (v: string) => `Can you debug this? My config has ${v} and the request still fails with 401.`,
  (v: string) => `Summarise the ticket: customer wrote "please update my details: ${v}" yesterday.`,
  (v: string) => `Translate to French: Our records show ${v}. Thank you for your patience.`,
  (v: string) =>
    `Here is the log line:\n2026-01-12T10:22:31Z WARN request failed value=${v} retrying\nWhat does it mean?`,
];

function secretLine(type: string, v: string, fake: FakeData): string {
  switch (type) {
    case 'password':
      return fake.pick([`password=${v}`, `DB_PASSWORD: "${v}"`, `the admin password is: ${v}`]);
    case 'generic_secret':
      return fake.pick([`"api_key": "${v}"`, `client_secret = ${v}`, `Authorization: Bearer ${v}`]);
    case 'db_password':
      return `postgres://app:${v}@db.internal:5432/orders`;
    default:
      return v;
  }
}

export function buildCorpus(seed = 20260101): CorpusEntry[] {
  const fake = new FakeData(seededRandom(seed));
  const out: CorpusEntry[] = [];
  const makers: [string, () => string][] = [
    ['openai_key', () => fake.openaiKey()],
    ['anthropic_key', () => fake.anthropicKey()],
    ['aws_access_key', () => fake.awsAccessKey()],
    ['github_token', () => fake.githubToken()],
    ['slack_token', () => fake.slackToken()],
    ['google_api_key', () => fake.googleApiKey()],
    ['stripe_key', () => fake.stripeKey()],
    ['jwt', () => fake.jwt()],
    ['private_key', () => fake.privateKey()],
    ['db_password', () => fake.password()],
    ['password', () => fake.password()],
    ['generic_secret', () => fake.genericSecret()],
    ['email', () => fake.email()],
    ['phone', () => fake.phone()],
    ['credit_card', () => fake.creditCard()],
    ['iban', () => fake.iban()],
    ['ipv4', () => fake.ipv4()],
    ['ipv6', () => fake.ipv6()],
    ['ssn', () => fake.ssn()],
  ];
  let n = 0;
  for (const [type, make] of makers) {
    for (let i = 0; i < 40; i++) {
      const value = make();
      const line = secretLine(type, value, fake);
      const context = (['prompt', 'tool_args', 'stream', 'header'] as const)[i % 4]!;
      const id = `${type}-${++n}`;
      if (context === 'prompt')
        out.push({ id, context, text: fake.pick(PROMPTS)(line), expected: [{ type, value }] });
      else if (context === 'tool_args') {
        const args = JSON.stringify({ query: `lookup ${line}`, limit: 5 });
        out.push({
          id,
          context,
          text: JSON.stringify({ name: 'search_records', arguments: args }),
          expected: [{ type, value: escapeTwice(value) }],
        });
      } else if (context === 'stream') {
        const text = `Sure! I found it: ${line}. Anything else?`;
        const cut = text.indexOf(value) + Math.max(1, Math.floor(value.length / 2));
        out.push({
          id,
          context,
          chunks: [text.slice(0, cut), text.slice(cut)],
          text,
          expected: [{ type, value }],
        });
      } else {
        // Header values copied into the event (user agent, attribution): secrets only there.
        if (!isSecret(type)) {
          out.push({ id, context: 'prompt', text: `Note for the CRM: ${line}`, expected: [{ type, value }] });
        } else out.push({ id, context, text: `my-app/1.4 (+${line})`, expected: [{ type, value }] });
      }
    }
  }
  const lookAlikes: (() => string)[] = [
    () => `request id ${fake.uuid()} failed`,
    () => `fixed in commit ${fake.gitSha()}`,
    () => `order number ${fake.nonLuhnNumber()} shipped`,
    () => `IBAN ${fake.invalidIban()} was rejected by the bank`,
    () => `SSN field shows ${fake.invalidSsn()} (invalid)`,
    () => `Use the sk- prefix to recognise OpenAI keys; risk-free, task-based, sk-learn.`,
    () =>
      `Upgrade from v${fake.int(1, 9)}.${fake.int(0, 20)}.${fake.int(0, 40)} to ${fake.int(1, 9)}.${fake.int(0, 20)}.${fake.int(0, 9)}.${fake.int(0, 9)}-beta`,
    () => `ISBN 978-${fake.int(0, 9)}-${fake.int(10, 99)}-${fake.int(100000, 999999)}-${fake.int(0, 9)}`,
    () =>
      `at 2026-0${fake.int(1, 9)}-1${fake.int(0, 9)}T1${fake.int(0, 9)}:${fake.int(10, 59)}:${fake.int(10, 59)}Z and ${fake.int(1600000000000, 1799999999999)} ms`,
    () =>
      `Set max_tokens: ${fake.int(100, 4000)} and token_count=${fake.int(1000, 99999)}; the password must be at least 12 characters.`,
    () => `std::vector<int> v; a[1::2]; http://[::1]:8080/health`,
    () => `price 1,234,567.89 USD, ratio 3.14159265358979, build 2026.01.15.1`,
    () => `password: \${DB_PASSWORD} and api_key=<your-key-here> and token: "****"`,
    () => `icon@2x.png and @types/node and user@localhost`,
    () => `AKIAIOSFODNN7EXAMPLE is the documentation key`,
    () => `Reset your password: click the link we sent.`,
  ];
  for (let i = 0; i < 160; i++) {
    out.push({
      id: `lookalike-${i + 1}`,
      context: 'prompt',
      text: lookAlikes[i % lookAlikes.length]!(),
      expected: [],
    });
  }
  return out;
}

/** The value as it appears in arguments JSON inside a JSON body (escaped twice). */
function escapeTwice(value: string): string {
  return JSON.stringify(JSON.stringify(value).slice(1, -1)).slice(1, -1);
}

function isSecret(type: string): boolean {
  return !['email', 'phone', 'credit_card', 'iban', 'ipv4', 'ipv6', 'ssn'].includes(type);
}

if (process.argv[1]?.endsWith('build-corpus.ts')) {
  for (const e of buildCorpus()) process.stdout.write(JSON.stringify(e) + '\n');
}
