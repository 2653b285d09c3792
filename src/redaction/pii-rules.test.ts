import { describe, expect, it } from 'vitest';
import { FakeData, seededRandom } from '../../test/redaction-corpus/fake-secrets.js';
import { PII_TYPES, type DetectorType } from './detector.js';
import { isValidIban } from './iban-checksum.js';
import { isPlausibleCardNumber, passesLuhn } from './luhn.js';
import { createTextRedactor } from './text-redactor.js';

const pii = createTextRedactor(new Set<DetectorType>(PII_TYPES));
const types = (text: string): string[] => pii.findings(text).map((f) => f.type);

describe('checksums', () => {
  it('Luhn accepts test card numbers and rejects a changed digit', () => {
    expect(passesLuhn('4111111111111111')).toBe(true);
    expect(passesLuhn('4111111111111112')).toBe(false);
    expect(isPlausibleCardNumber('4111111111111111')).toBe(true);
    expect(isPlausibleCardNumber('1718900000000')).toBe(false);
  });
  it('IBAN mod-97 accepts the ISO 13616 example and rejects a transposition', () => {
    expect(isValidIban('GB82WEST12345698765432')).toBe(true);
    expect(isValidIban('GB82WEST12345698765423')).toBe(false);
    expect(isValidIban('XX82WEST12345698765432')).toBe(false);
  });
});

describe('personal-data detectors', () => {
  it.each<[string, string, DetectorType]>([
    ['Write to jane.doe+billing@example.co.uk today', 'jane.doe+billing@example.co.uk', 'email'],
    ['Call (415) 555-2671 after 5', '(415) 555-2671', 'phone'],
    ['Office: +44 20 7946 0958.', '+44 20 7946 0958', 'phone'],
    ['Card 4111 1111 1111 1111 exp 12/27', '4111 1111 1111 1111', 'credit_card'],
    ['Amex 3782-822463-10005 ok', '3782-822463-10005', 'credit_card'],
    ['IBAN: GB82 WEST 1234 5698 7654 32 please', 'GB82 WEST 1234 5698 7654 32', 'iban'],
    ['pay DE89370400440532013000 now', 'DE89370400440532013000', 'iban'],
    ['client 203.0.113.42 connected', '203.0.113.42', 'ipv4'],
    ['from [2001:db8:85a3::8a2e:370:7334]:443', '2001:db8:85a3::8a2e:370:7334', 'ipv6'],
    ['SSN 123-45-6789 on file', '123-45-6789', 'ssn'],
  ])('finds %s', (text, value, type) => {
    const at = text.indexOf(value);
    expect(pii.findings(text)).toContainEqual({ type, start: at, end: at + value.length });
  });

  it.each([
    'id 550e8400-e29b-41d4-a716-446655440000',
    'commit 3f2a9c1e0b7d4f6a8e5c2b1d0f9e8a7c6b5d4e3f',
    'number 4111 1111 1111 1112 (not Luhn)',
    'IBAN GB83 WEST 1234 5698 7654 32 has a bad check',
    'version 1.2.3 and 10.4.1.2.7 and v1.2.3.4',
    'ISBN 978-3-16-148410-0',
    'at 2024-01-15T10:30:00Z and 2024-01-15 10:30:00 and 15/01/2024',
    'epoch 1718900000000 ms',
    'SSNs 000-12-3456 666-12-3456 912-34-5678 123-00-4567 123-45-0000 078-05-1120',
    'std::vector<int> and a[1::2] and Foo::Bar',
    'retina icon@2x.png and @types/node and user@localhost',
    'the price is 1,234,567.89 USD',
  ])('keeps look-alike: %s', (text) => {
    expect(types(text)).toEqual([]);
  });

  it('finds random personal data of each kind', () => {
    const fake = new FakeData(seededRandom(5));
    const makers: [DetectorType, () => string][] = [
      ['email', () => fake.email()],
      ['phone', () => fake.phone()],
      ['credit_card', () => fake.creditCard()],
      ['iban', () => fake.iban()],
      ['ipv4', () => fake.ipv4()],
      ['ipv6', () => fake.ipv6()],
      ['ssn', () => fake.ssn()],
    ];
    for (const [type, make] of makers) {
      for (let i = 0; i < 40; i++) {
        const value = make();
        const text = `Customer record: ${value}, updated.`;
        const at = text.indexOf(value);
        const hit = pii.findings(text).find((f) => f.start <= at && f.end >= at + value.length);
        expect(hit?.type, value).toBe(type);
      }
    }
  });

  it('switches detectors off individually', () => {
    const noEmail = createTextRedactor(new Set<DetectorType>(PII_TYPES.filter((t) => t !== 'email')));
    expect(noEmail.redact('mail a.b@example.com, call (415) 555-2671').text).toBe(
      'mail a.b@example.com, call [REDACTED:phone]',
    );
  });
});
