/**
 * Personal-data detectors: e-mail, phone, payment card, IBAN, IPv4, IPv6, US SSN.
 *
 * Each is a hand-written scan anchored on a cheap literal ('@', ':', a digit, two capitals
 * and two digits) that examines a bounded window per anchor, so cost is linear in the text.
 * Candidates are then checked the way the format is defined: Luhn and issuer ranges for
 * cards, ISO 7064 mod-97 for IBANs, `net.isIPv6` for IPv6, SSA allocation rules for SSNs,
 * and libphonenumber (Google's metadata, `libphonenumber-js/max`) for phone numbers.
 */
import { isIPv6 } from 'node:net';
import { findNumbers, type CountryCode } from 'libphonenumber-js/max';
import type { Detector, Finding, PiiType } from './detector.js';
import { isAsciiLetter, isDigit, isHexDigit, isUpper, isWordChar } from './char-classes.js';
import { IBAN_LENGTHS, isValidIban } from './iban-checksum.js';
import { isPlausibleCardNumber, passesLuhn } from './luhn.js';

/** Options of the personal-data detectors. */
export interface PiiOptions {
  /** Region for phone numbers written without a country code (ISO 3166-1 alpha-2). Default 'US'. */
  phoneDefaultCountry?: CountryCode;
}

// ---------------------------------------------------------------- e-mail (RFC 5321 §4.5.3.1)

const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;
// "icon@2x.png" is a file name, not an address.
const FILE_EXTENSIONS = new Set([
  'png',
  'jpg',
  'jpeg',
  'gif',
  'svg',
  'webp',
  'ico',
  'js',
  'mjs',
  'ts',
  'css',
  'map',
  'json',
  'txt',
]);

function isLocalChar(c: number): boolean {
  // RFC 5322 atext, minus the rarely used characters that collide with prose and code.
  return isWordChar(c) || c === 46 || c === 37 || c === 43 || c === 45;
}

function isDomainChar(c: number): boolean {
  return isAsciiLetter(c) || isDigit(c) || c === 45 || c === 46;
}

/** `scheme://user:pass@host`: the '@' ends URL userinfo (url-password-detector.ts handles it). */
function isUrlUserinfo(text: string, localStart: number): boolean {
  // The last "://" in the 300 characters before (a bounded search: lastIndexOf would scan
  // back to the start of the text for every '@').
  const from = Math.max(0, localStart - 300);
  const found = text.slice(from, localStart).lastIndexOf('://');
  if (found < 0) return false;
  const sep = from + found;
  // Whitespace or a '/' between "://" and the address: the URL ended, or this is its path.
  for (let i = sep + 3; i < localStart; i++) {
    const c = text.charCodeAt(i);
    if (c <= 32 || c === 47 || c === 34 || c === 39) return false;
  }
  return true;
}

class EmailDetector implements Detector {
  readonly type = 'email' as const;

  find(text: string, out: Finding[]): void {
    let from = 0;
    for (;;) {
      const at = text.indexOf('@', from);
      if (at < 0) return;
      from = at + 1;
      let s = at;
      while (s > 0 && at - s < MAX_LOCAL && isLocalChar(text.charCodeAt(s - 1))) s--;
      while (s < at && text.charCodeAt(s) === 46) s++;
      if (s === at || isUrlUserinfo(text, s)) continue;
      let e = at + 1;
      while (e < text.length && e - at <= MAX_DOMAIN && isDomainChar(text.charCodeAt(e))) e++;
      while (e > at + 1 && (text.charCodeAt(e - 1) === 46 || text.charCodeAt(e - 1) === 45)) e--;
      const labels = text.slice(at + 1, e).split('.');
      if (labels.length < 2) continue;
      const tld = labels[labels.length - 1] ?? '';
      if (tld.length < 2 || tld.length > 24 || !/^[A-Za-z]+$/.test(tld)) continue;
      if (FILE_EXTENSIONS.has(tld.toLowerCase())) continue;
      if (labels.some((l) => l.length === 0 || l.length > 63 || l.startsWith('-') || l.endsWith('-')))
        continue;
      out.push({ type: this.type, start: s, end: e });
      from = e;
    }
  }
}

// ------------------------------------------------ numbers: card, SSN, IPv4, phone

const MAX_PHRASE = 64;

function isPhraseSeparator(c: number): boolean {
  // space, - . ( ) / — the separators people put in card, phone and ID numbers
  return c === 32 || c === 45 || c === 46 || c === 40 || c === 41 || c === 47;
}

interface Phrase {
  start: number;
  end: number;
  /** Digit runs and the separators between them. */
  groups: { start: number; end: number }[];
}

function isValidSsn(area: number, group: number, serial: number, whole: string): boolean {
  // SSA: area 000, 666 and 900–999 are never issued; group 00 and serial 0000 neither.
  if (area === 0 || area === 666 || area >= 900 || group === 0 || serial === 0) return false;
  // Numbers published in advertising and never valid (SSA, "Woolworth" wallet card).
  return whole !== '078-05-1120' && whole !== '219-09-9999';
}

class NumberDetector implements Detector {
  readonly type = 'phone' as const;

  /** NANP numbers are 10 digits without the country code (ITU-T E.164 / NANPA); others vary. */
  private readonly minNationalDigits: number;

  constructor(
    private readonly enabled: (type: PiiType) => boolean,
    private readonly phoneCountry: CountryCode,
  ) {
    this.minNationalDigits = phoneCountry === 'US' || phoneCountry === 'CA' ? 10 : 7;
  }

  // Jumps to the next digit (or "+"/"(" before one) natively; fixed-length, so linear.
  private readonly nextStart = /[+(]?[0-9]/g;

  find(text: string, out: Finding[]): void {
    const re = this.nextStart;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const i = m.index;
      const phrase = readPhrase(text, i);
      if (phrase.end - phrase.start <= MAX_PHRASE && standsAlone(text, phrase))
        this.classify(text, phrase, out);
      re.lastIndex = Math.max(phrase.end, i + 1);
    }
  }

  private classify(text: string, p: Phrase, out: Finding[]): void {
    let digits = 0;
    for (const g of p.groups) digits += g.end - g.start;
    // Fewer than 4 digits is none of these (an IPv4 address has at least 4).
    if (digits < 4) return;
    const raw = text.slice(p.start, p.end);
    if (this.enabled('ipv4') && /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(raw)) {
      if (raw.split('.').every((o) => Number(o) <= 255))
        out.push({ type: 'ipv4', start: p.start, end: p.end });
      return;
    }
    if (digits === 9 && /^\d{3}-\d{2}-\d{4}$/.test(raw)) {
      if (
        this.enabled('ssn') &&
        isValidSsn(Number(raw.slice(0, 3)), Number(raw.slice(4, 6)), Number(raw.slice(7)), raw)
      ) {
        out.push({ type: 'ssn', start: p.start, end: p.end });
        return;
      }
    }
    if (digits >= 13 && this.enabled('credit_card') && this.findCards(text, p, out)) return;
    if (!this.enabled('phone')) return;
    const international = raw.startsWith('+');
    if (digits > 15 || digits < (international ? 7 : this.minNationalDigits)) return;
    // Dates are not phone numbers (2025-11-03, 03/11/2025); libphonenumber would say so, slower.
    if (/^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}$/.test(raw)) return;
    // A little context either side lets libphonenumber reject timestamps ("10:30") and dates.
    const ws = Math.max(0, p.start - 4);
    const we = Math.min(text.length, p.end + 6);
    for (const m of findNumbers(text.slice(ws, we), { defaultCountry: this.phoneCountry, v2: true })) {
      const start = ws + m.startsAt;
      const end = ws + m.endsAt;
      if (end > p.start && start < p.end) out.push({ type: 'phone', start, end });
    }
  }

  /** Cards inside a phrase: consecutive groups, one consistent separator, 13–19 digits, Luhn. */
  private findCards(text: string, p: Phrase, out: Finding[]): boolean {
    const g = p.groups;
    let found = false;
    let a = 0;
    while (a < g.length) {
      let digits = '';
      let best = -1;
      const sep = a + 1 < g.length ? text.slice(g[a]!.end, g[a + 1]!.start) : '';
      for (let b = a; b < g.length; b++) {
        if (b > a && text.slice(g[b - 1]!.end, g[b]!.start) !== sep) break;
        digits += text.slice(g[b]!.start, g[b]!.end);
        if (digits.length > 19) break;
        if (
          digits.length >= 13 &&
          (sep === '' || sep === ' ' || sep === '-') &&
          passesLuhn(digits) &&
          isPlausibleCardNumber(digits)
        )
          best = b;
      }
      if (best >= 0) {
        out.push({ type: 'credit_card', start: g[a]!.start, end: g[best]!.end });
        found = true;
        a = best + 1;
      } else a++;
    }
    return found;
  }
}

/** The longest run of digits joined by at most two separator characters, from `start`. */
function readPhrase(text: string, start: number): Phrase {
  const groups: { start: number; end: number }[] = [];
  let i = start;
  const n = text.length;
  let last = start;
  while (i < n && i - start <= MAX_PHRASE + 1) {
    const gs = i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    if (i > gs) {
      groups.push({ start: gs, end: i });
      last = i;
    }
    let j = i;
    while (j < n && j - i < 2 && (isPhraseSeparator(text.charCodeAt(j)) || text.charCodeAt(j) === 43)) j++;
    if (j === i || j >= n || !isDigit(text.charCodeAt(j))) break;
    i = j;
  }
  // Run past an overlong phrase entirely, so it is skipped as one unit.
  if (i - start > MAX_PHRASE) {
    while (i < n && (isDigit(text.charCodeAt(i)) || isPhraseSeparator(text.charCodeAt(i)))) i++;
    return { start, end: i, groups };
  }
  // Keep the opening "+" or "(" that started the phrase.
  return { start, end: last, groups };
}

/** A phrase glued to letters (hashes, UUID segments, v1.2.3.4, 123abc) is part of something else. */
function standsAlone(text: string, p: Phrase): boolean {
  const before = p.start > 0 ? text.charCodeAt(p.start - 1) : 32;
  if (isWordChar(before)) return false;
  if ((before === 45 || before === 46) && p.start > 1 && isWordChar(text.charCodeAt(p.start - 2)))
    return false;
  const after = p.end < text.length ? text.charCodeAt(p.end) : 32;
  if (isWordChar(after)) return false;
  if ((after === 45 || after === 46) && p.end + 1 < text.length && isWordChar(text.charCodeAt(p.end + 1)))
    return false;
  return true;
}

// ------------------------------------------------------------ IBAN (ISO 13616)

class IbanDetector implements Detector {
  readonly type = 'iban' as const;

  // Two capitals and two digits: fixed length, so the native scan is linear.
  private readonly anchor = /[A-Z]{2}[0-9]{2}/g;

  find(text: string, out: Finding[]): void {
    const n = text.length;
    const re = this.anchor;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const i = m.index;
      re.lastIndex = i + 1;
      if (i > 0 && isWordChar(text.charCodeAt(i - 1))) continue;
      const expected = IBAN_LENGTHS[text.slice(i, i + 2)];
      if (expected === undefined) continue;
      // Electronic form (no spaces) or print form (groups of four separated by one space).
      let compact = '';
      let j = i;
      while (j < n && compact.length < expected) {
        const c = text.charCodeAt(j);
        if (isUpper(c) || isDigit(c)) {
          compact += text[j];
          j++;
        } else if (c === 32 && compact.length % 4 === 0 && j + 1 < n && isWordChar(text.charCodeAt(j + 1)))
          j++;
        else break;
      }
      if (compact.length !== expected || (j < n && isWordChar(text.charCodeAt(j)))) continue;
      if (!isValidIban(compact)) continue;
      out.push({ type: this.type, start: i, end: j });
      re.lastIndex = j;
    }
  }
}

// ------------------------------------------------------------ IPv6 (RFC 4291 §2.2)

const MAX_IPV6 = 45;

function isIpv6Char(c: number): boolean {
  return isHexDigit(c) || c === 58 || c === 46;
}

class Ipv6Detector implements Detector {
  readonly type = 'ipv6' as const;

  find(text: string, out: Finding[]): void {
    let from = 0;
    for (;;) {
      const colon = text.indexOf(':', from);
      if (colon < 0) return;
      let s = colon;
      while (s > 0 && colon - s <= MAX_IPV6 && isIpv6Char(text.charCodeAt(s - 1))) s--;
      let e = colon + 1;
      while (e < text.length && e - s <= MAX_IPV6 && isIpv6Char(text.charCodeAt(e))) e++;
      from = e;
      // Trailing sentence punctuation and a port-less colon are not part of the address.
      while (
        e > s &&
        (text.charCodeAt(e - 1) === 46 || (text.charCodeAt(e - 1) === 58 && text.charCodeAt(e - 2) !== 58))
      )
        e--;
      while (s < e && text.charCodeAt(s) === 46) s++;
      if (e - s > MAX_IPV6 || e - s < 3) continue;
      if (s > 0 && isWordChar(text.charCodeAt(s - 1))) continue; // std::vector, T10:30:00
      if (e < text.length && (isWordChar(text.charCodeAt(e)) || text.charCodeAt(e) === 58)) continue;
      const candidate = text.slice(s, e);
      const groups = candidate.split(':').filter((g) => g.length > 0);
      let hex = 0;
      for (const g of groups) hex += g.length;
      // "::1", "1::2" (a Python slice) and "a::b" are too short to be worth reading as addresses.
      if (groups.length < 3 && !(candidate.includes('::') && groups.length >= 2 && hex >= 5)) continue;
      if (!isIPv6(candidate)) continue;
      out.push({ type: this.type, start: s, end: e });
    }
  }
}

/** Compiles the personal-data detectors whose type is enabled. */
export function createPiiDetectors(
  enabled: (type: PiiType) => boolean,
  options: PiiOptions = {},
): Detector[] {
  const detectors: Detector[] = [];
  if (enabled('email')) detectors.push(new EmailDetector());
  if (enabled('phone') || enabled('credit_card') || enabled('ssn') || enabled('ipv4')) {
    detectors.push(new NumberDetector(enabled, options.phoneDefaultCountry ?? 'US'));
  }
  if (enabled('iban')) detectors.push(new IbanDetector());
  if (enabled('ipv6')) detectors.push(new Ipv6Detector());
  return detectors;
}
