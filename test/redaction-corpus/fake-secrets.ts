/**
 * Realistic fake secrets and personal data: right format, random content, from a seeded
 * PRNG so the corpus and the tests are reproducible. None of these is a live credential.
 */
import { passesLuhn } from '../../src/redaction/luhn.js';

export { seededRandom } from '../../src/core/seeded-random.js';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const URLSAFE = ALNUM + '_-';
const HEX = '0123456789abcdef';

export class FakeData {
  constructor(private readonly rnd: () => number) {}

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rnd() * items.length)]!;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.rnd() * (max - min + 1));
  }

  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.rnd() * alphabet.length)];
    return s;
  }

  openaiKey(): string {
    switch (this.int(0, 3)) {
      case 0:
        return `sk-proj-${this.chars(URLSAFE, 74)}T3BlbkFJ${this.chars(URLSAFE, 74)}`;
      case 1:
        return `sk-svcacct-${this.chars(URLSAFE, 58)}T3BlbkFJ${this.chars(URLSAFE, 58)}`;
      case 2:
        return `sk-admin-${this.chars(URLSAFE, 58)}T3BlbkFJ${this.chars(URLSAFE, 58)}`;
      default:
        return `sk-${this.chars(ALNUM, 48)}`;
    }
  }

  anthropicKey(): string {
    return `sk-ant-${this.pick(['api03', 'admin01'])}-${this.chars(URLSAFE, 93)}AA`;
  }

  awsAccessKey(): string {
    return `${this.pick(['AKIA', 'ASIA', 'ABIA', 'ACCA'])}${this.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
  }

  githubToken(): string {
    return this.int(0, 4) === 0
      ? `github_pat_${this.chars(ALNUM, 22)}_${this.chars(ALNUM, 59)}`
      : `${this.pick(['ghp', 'gho', 'ghu', 'ghs', 'ghr'])}_${this.chars(ALNUM, 36)}`;
  }

  slackToken(): string {
    switch (this.int(0, 2)) {
      case 0:
        return `xoxb-${this.chars(DIGITS, 12)}-${this.chars(DIGITS, 13)}-${this.chars(ALNUM, 24)}`;
      case 1:
        return `xoxp-${this.chars(DIGITS, 12)}-${this.chars(DIGITS, 12)}-${this.chars(DIGITS, 12)}-${this.chars(HEX, 32)}`;
      default:
        return `https://hooks.slack.com/services/T${this.chars(UPPER + DIGITS, 8)}/B${this.chars(UPPER + DIGITS, 10)}/${this.chars(ALNUM, 24)}`;
    }
  }

  googleApiKey(): string {
    return `AIzaSy${this.chars(URLSAFE, 33)}`;
  }

  stripeKey(): string {
    return `${this.pick(['sk', 'rk'])}_${this.pick(['live', 'test'])}_${this.chars(ALNUM, this.int(24, 99))}`;
  }

  jwt(): string {
    const b64 = (s: string): string => Buffer.from(s).toString('base64url');
    const header = b64(JSON.stringify({ alg: this.pick(['HS256', 'RS256', 'ES256']), typ: 'JWT' }));
    const payload = b64(
      JSON.stringify({
        sub: this.chars(DIGITS, 10),
        name: this.chars(LOWER, 8),
        iat: this.int(1.6e9, 1.8e9),
      }),
    );
    return `${header}.${payload}.${this.chars(URLSAFE, 43)}`;
  }

  privateKey(): string {
    const label = this.pick(['RSA PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY']);
    const lines: string[] = [];
    for (let i = 0; i < this.int(4, 12); i++) lines.push(this.chars(ALNUM + '+/', 64));
    return `-----BEGIN ${label}-----\n${lines.join('\n')}\n${this.chars(ALNUM, 20)}==\n-----END ${label}-----`;
  }

  password(): string {
    return `${this.chars(ALNUM, this.int(6, 14))}${this.pick(['!', '#', '%', '9', '_', '$'])}${this.chars(DIGITS, 2)}`;
  }

  genericSecret(): string {
    return this.chars(ALNUM, this.int(24, 48));
  }

  email(): string {
    const first = this.pick([
      'alice',
      'bob',
      'carol',
      'dmitri',
      'eva',
      'farah',
      'li.wei',
      'j.smith',
      'o.connor',
    ]);
    return `${first}${this.int(0, 1) ? this.int(1, 99) : ''}@${this.pick(['example.com', 'mail.example.org', 'corp.example.net', 'example.co.uk'])}`;
  }

  phone(): string {
    const area = this.pick(['212', '415', '312', '617', '206', '303', '512', '646']);
    const line = `${this.int(200, 999)}-${this.chars(DIGITS, 4)}`;
    return this.pick([
      `(${area}) ${line}`,
      `${area}-${line}`,
      `+1 ${area} ${line.replace('-', ' ')}`,
      `+44 20 7946 0${this.chars(DIGITS, 3)}`,
      `+49 30 ${this.int(20000000, 99999999)}`,
      `+33 1 ${this.int(40, 49)} ${this.chars(DIGITS, 2)} ${this.chars(DIGITS, 2)} ${this.chars(DIGITS, 2)}`,
    ]);
  }

  creditCard(): string {
    const prefix = this.pick(['4', '51', '55', '2221', '37', '6011']);
    const length = prefix === '37' ? 15 : 16;
    let body = prefix + this.chars(DIGITS, length - prefix.length - 1);
    for (let d = 0; d <= 9; d++) {
      if (passesLuhn(body + String(d))) {
        body += String(d);
        break;
      }
    }
    const style = this.int(0, 2);
    if (style === 0) return body;
    const sep = style === 1 ? ' ' : '-';
    return length === 15
      ? [body.slice(0, 4), body.slice(4, 10), body.slice(10)].join(sep)
      : body.match(/.{4}/g)!.join(sep);
  }

  /** A 16-digit number that fails Luhn (a look-alike that must be kept). */
  nonLuhnNumber(): string {
    for (;;) {
      const n = '4' + this.chars(DIGITS, 15);
      if (!passesLuhn(n)) return n;
    }
  }

  iban(): string {
    const country = this.pick(['DE', 'GB', 'FR', 'NL', 'ES']);
    const bban =
      country === 'DE'
        ? this.chars(DIGITS, 18)
        : country === 'GB'
          ? this.chars(UPPER, 4) + this.chars(DIGITS, 14)
          : country === 'FR'
            ? this.chars(DIGITS, 23)
            : country === 'NL'
              ? this.chars(UPPER, 4) + this.chars(DIGITS, 10)
              : this.chars(DIGITS, 20);
    const numeric = (bban + country + '00').replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
    let rem = 0;
    for (const ch of numeric) rem = (rem * 10 + Number(ch)) % 97;
    const check = String(98 - rem).padStart(2, '0');
    const iban = country + check + bban;
    return this.int(0, 1) ? iban : iban.match(/.{1,4}/g)!.join(' ');
  }

  /** Same shape as an IBAN, wrong check digits. */
  invalidIban(): string {
    const valid = this.iban().replace(/ /g, '');
    const check = Number(valid.slice(2, 4));
    return valid.slice(0, 2) + String(((check + 1) % 90) + 2).padStart(2, '0') + valid.slice(4);
  }

  ipv4(): string {
    return `${this.pick(['10', '172', '192', '81', '203'])}.${this.int(0, 255)}.${this.int(0, 255)}.${this.int(1, 254)}`;
  }

  ipv6(): string {
    return this.pick([
      `2001:db8:${this.chars(HEX, 4)}:${this.chars(HEX, 4)}::${this.chars(HEX, 3)}`,
      `fe80::${this.chars(HEX, 4)}:${this.chars(HEX, 4)}:${this.chars(HEX, 4)}:${this.chars(HEX, 4)}`,
      `2a02:${this.chars(HEX, 4)}:${this.chars(HEX, 4)}:${this.chars(HEX, 4)}:${this.chars(HEX, 4)}:${this.chars(HEX, 4)}:${this.chars(HEX, 4)}:${this.chars(HEX, 4)}`,
    ]);
  }

  ssn(): string {
    let area = this.int(1, 899);
    if (area === 666) area = 667;
    return `${String(area).padStart(3, '0')}-${String(this.int(1, 99)).padStart(2, '0')}-${String(this.int(1, 9999)).padStart(4, '0')}`;
  }

  invalidSsn(): string {
    return this.pick([
      `000-${this.int(10, 99)}-${this.int(1000, 9999)}`,
      `666-${this.int(10, 99)}-${this.int(1000, 9999)}`,
      `9${this.int(10, 99)}-${this.int(10, 99)}-${this.int(1000, 9999)}`,
      `${this.int(100, 899)}-00-${this.int(1000, 9999)}`,
      `${this.int(100, 665)}-${this.int(10, 99)}-0000`,
    ]);
  }

  uuid(): string {
    return `${this.chars(HEX, 8)}-${this.chars(HEX, 4)}-4${this.chars(HEX, 3)}-a${this.chars(HEX, 3)}-${this.chars(HEX, 12)}`;
  }

  gitSha(): string {
    return this.chars(HEX, 40);
  }
}
