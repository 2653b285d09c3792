/**
 * Secrets assigned to a telling name: `password=…`, `"api_key": "…"`, `DB_PASSWD: …`,
 * `Authorization: Bearer …`. Derived from gitleaks' `generic-api-key` and `database-password`
 * rules (keywords, operators, the 10–150 character value and the 3.5-bit entropy floor for
 * generic values, and its allowlist of names that only look like secrets: `secret_length`,
 * `csrf_token`, `public_key`, `credentialsId`, …), plus names specific to LLM traffic
 * (`max_tokens`, `token_count`).
 *
 * Linear by construction: keywords are found with `indexOf`, and each hit is examined within a
 * bounded window (50 characters of name before, 20 of filler after, 200 of value).
 */
import type { Detector, Finding, SecretType } from './detector.js';
import { isAsciiLetter, isSpaceOrTab, isUpper, isWordChar } from './char-classes.js';
import { shannonEntropy } from './entropy.js';
import { isPlaceholderValue } from './placeholder-values.js';

interface Keyword {
  word: string;
  type: 'password' | 'generic_secret';
}

const KEYWORDS: readonly Keyword[] = [
  { word: 'passw', type: 'password' }, // password, passwd
  { word: 'pwd', type: 'password' },
  { word: 'passphrase', type: 'password' },
  { word: 'secret', type: 'generic_secret' },
  { word: 'token', type: 'generic_secret' },
  { word: 'apikey', type: 'generic_secret' },
  { word: 'api_key', type: 'generic_secret' },
  { word: 'api-key', type: 'generic_secret' },
  { word: 'credential', type: 'generic_secret' },
  { word: 'creds', type: 'generic_secret' },
  { word: 'auth', type: 'generic_secret' },
  { word: 'private_key', type: 'generic_secret' },
  { word: 'private-key', type: 'generic_secret' },
  { word: 'privatekey', type: 'generic_secret' },
  { word: 'access_key', type: 'generic_secret' },
];

/**
 * Names that contain a keyword but do not hold a secret. Tested on a name of at most 100
 * characters with no nested quantifiers, so its cost per hit is bounded.
 * Source: gitleaks `generic-api-key` allowlist, extended for LLM request fields.
 */
const NAME_ALLOWLIST =
  /access(?:ibility|or)|api[_.-]?(?:id|name|version)|author(?!i)|organization-auth|authentication-results|credentials?[_.-]?id|withcredentials|(?:bucket|foreign|hot|idx|natural|primary|pub(?:lic)?|schema|sequence)[_.-]?key|key[_.-]?vault|keyvaulttostoresecrets|(?:key|token|secret|password)[_.-]?(?:file|path)|issuerkeyhash|secret[_.-]?(?:length|name|size|ref)|usersecretsid|csrf|xsrf|jsonwebtoken|(?:api|credentials?|token|auth)[_.-]?(?:endpoint|ur[il]|type|method|provider|scheme|header)|public[_.-]?token|tokeni[sz]e|tokens?[_.-]?(?:count|limit|usage|budget|len|ids?\b|type)|(?:max|min|input|output|total|completion|prompt|cached|reasoning|num|n)[_.-]?tokens|password[_.-]?(?:policy|hash|reset|length|min|max|field|input|label|prompt|variable|confirm|strength|rule|expir)|(?:forgot|reset|confirm)[_.-]?password|oauth[_.-]?(?:flow|provider|scope)/;

/**
 * Values in a known token format are the token rules' business: when those rules did not
 * match, the value is a malformed or placeholder token (gitleaks' Slack false positives,
 * e.g. `"token1": "xoxp-1234567890"`).
 */
const TOKEN_PREFIXES = [
  'xox',
  'xapp-',
  'sk-',
  'sk_live_',
  'sk_test_',
  'rk_live_',
  'rk_test_',
  'ghp_',
  'gho_',
  'ghu_',
  'ghs_',
  'ghr_',
  'github_pat_',
  'AKIA',
  'ASIA',
  'AIza',
];

/** Published values that are not secrets (gitleaks stopword for yarnpkg/berry#6201). */
const VALUE_STOPWORDS = new Set(['6fe4476ee5a1832882e326b506d14126']);

const MAX_NAME_BEFORE = 50;
const MAX_FILLER = 20;
const MAX_VALUE = 200;
const AUTH_SCHEMES = new Set(['bearer', 'basic', 'token', 'digest']);

function isNameChar(c: number): boolean {
  return isWordChar(c) || c === 46 || c === 45;
}

function isQuote(c: number): boolean {
  return c === 34 || c === 39 || c === 96;
}

/** Ends an unquoted value: whitespace, quotes, `;` `,` `&` and closing brackets. */
function endsBareValue(c: number): boolean {
  return (
    c <= 32 ||
    isQuote(c) ||
    c === 59 ||
    c === 44 ||
    c === 38 ||
    c === 41 ||
    c === 93 ||
    c === 125 ||
    c === 62 ||
    c === 60
  );
}

function looksLikeCode(value: string): boolean {
  // config.password, getPassword(), os.environ[…], process.env.X — references, not values.
  if (value.includes('(') || value.includes('[') || value.includes('://')) return true;
  return /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(value);
}

function acceptsPassword(value: string): boolean {
  if (value.length < 4) return false;
  // A lowercase word after "password:" is usually prose ("password: click the link").
  let lower = 0;
  let other = 0;
  let upper = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 97 && c <= 122) lower++;
    else if (isUpper(c)) upper++;
    else other++;
  }
  if (other === 0 && (upper === 0 || lower === 0) && value.length < 12) return false;
  if (other === 0 && /pass(?:wor)?d|pwd/i.test(value)) return false;
  // "password=password=…": another assignment, not a value.
  if (/(?:passw|pwd)[^=:]*[=:]/i.test(value)) return false;
  return true;
}

function acceptsGeneric(value: string): boolean {
  if (value.length < 10 || value.length > 150) return false;
  // gitleaks: a value of letters and separators only is a name, not a secret.
  let hasNonLetter = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!isAsciiLetter(c) && c !== 95 && c !== 46 && c !== 45) {
      hasNonLetter = true;
      break;
    }
  }
  if (!hasNonLetter) return false;
  return shannonEntropy(value) >= (value.length < 16 ? 3 : 3.5);
}

export class AssignmentDetector implements Detector {
  readonly type: SecretType = 'generic_secret';
  private readonly scan: RegExp | null;
  private readonly typeOf = new Map<string, Keyword['type']>();

  constructor(enabled: (type: 'password' | 'generic_secret') => boolean) {
    const keywords = KEYWORDS.filter((k) => enabled(k.type));
    for (const k of keywords) this.typeOf.set(k.word, k.type);
    // One native pass: an alternation of literals (no quantifiers), so at most Σ|keyword|
    // steps per position — linear.
    this.scan = keywords.length === 0 ? null : new RegExp(keywords.map((k) => k.word).join('|'), 'gi');
  }

  find(text: string, out: Finding[]): void {
    const re = this.scan;
    if (re === null) return;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const type = this.typeOf.get(m[0].toLowerCase());
      if (type !== undefined) this.examine(text, m.index, m.index + m[0].length, type, out);
    }
  }

  private examine(text: string, k: number, kwEnd: number, type: Keyword['type'], out: Finding[]): void {
    let nameStart = k;
    while (nameStart > 0 && k - nameStart < MAX_NAME_BEFORE && isNameChar(text.charCodeAt(nameStart - 1)))
      nameStart--;
    let nameEnd = kwEnd;
    while (nameEnd < text.length && nameEnd - kwEnd < MAX_FILLER && isNameChar(text.charCodeAt(nameEnd)))
      nameEnd++;
    if (NAME_ALLOWLIST.test(text.slice(nameStart, nameEnd).toLowerCase())) return;

    // gitleaks: keyword, then up to 20 of [ \t\w.-], then up to 3 of [\s'"], then an operator.
    let i = kwEnd;
    while (i < text.length && i - kwEnd < MAX_FILLER) {
      const c = text.charCodeAt(i);
      if (!(isNameChar(c) || isSpaceOrTab(c))) break;
      i++;
    }
    let quoted = false;
    // Up to 3 of [\s'"] (one more for a JSON escape: \"password\": \"…\").
    for (let n = 0; n < 4 && i < text.length; n++, i++) {
      const c = text.charCodeAt(i);
      if (isQuote(c)) quoted = true;
      else if (!isSpaceOrTab(c) && c !== 92) break;
    }
    const op = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (op === 61)
      i += next === 62 ? 2 : next === 61 ? 2 : 1; // = => ==
    else if (op === 58)
      i += next === 61 ? 2 : 1; // : :=
    else if (op === 63 && next === 61)
      i += 2; // ?=
    else if (op === 44 && quoted)
      i += 1; // ("api_token", "value")
    else return;

    let quote = 0;
    for (let n = 0; n < 6 && i < text.length; n++, i++) {
      const c = text.charCodeAt(i);
      if (isQuote(c)) quote = c;
      else if (!isSpaceOrTab(c) && c !== 92) break;
    }
    let [start, end] = readValue(text, i, quote);
    // Authorization: Bearer <token> — the credential is the second word.
    if (
      end > start &&
      AUTH_SCHEMES.has(text.slice(start, end).toLowerCase()) &&
      text.charCodeAt(end) === 32
    ) {
      [start, end] = readValue(text, end + 1, quote);
    }
    if (end <= start) return;
    const value = text.slice(start, end);
    if (isPlaceholderValue(value) || looksLikeCode(value) || VALUE_STOPWORDS.has(value)) return;
    if (TOKEN_PREFIXES.some((p) => value.startsWith(p))) return;
    if (type === 'password' ? !acceptsPassword(value) : !acceptsGeneric(value)) return;
    out.push({ type, start, end });
  }
}

function readValue(text: string, start: number, quote: number): [number, number] {
  let end = start;
  const limit = Math.min(text.length, start + MAX_VALUE);
  if (quote !== 0) {
    while (end < limit) {
      const c = text.charCodeAt(end);
      if (c === quote || c === 10 || c === 13 || c === 92) break;
      end++;
    }
    if (end >= limit) return [start, start];
  } else {
    while (end < limit && !endsBareValue(text.charCodeAt(end))) end++;
    // A sentence full stop is not part of the value.
    while (end > start && text.charCodeAt(end - 1) === 46) end--;
  }
  return [start, end];
}
