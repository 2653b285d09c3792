import { describe, expect, it } from 'vitest';
import { badPathReason } from './path-segments.js';

describe('badPathReason', () => {
  it('refuses dot segments, plain or encoded, anywhere in the path', () => {
    for (const p of [
      '/v1/../../internal/billing',
      '/v1/chat/..',
      '/v1/./chat',
      '/v1/%2e%2e/admin',
      '/v1/%2E%2e/admin',
      '/v1/.%2e/x',
      '/v1/%2e./x',
      '/v1/%2e/x',
    ])
      expect(badPathReason(p), p).toBe('dot_segment');
  });

  it('refuses encoded separators, backslashes and broken encoding', () => {
    expect(badPathReason('/v1/..%2fadmin')).toBe('encoded_separator');
    expect(badPathReason('/v1/a%2Fb')).toBe('encoded_separator');
    expect(badPathReason('/v1/a%5cb')).toBe('encoded_separator');
    expect(badPathReason('/v1/..\\admin')).toBe('backslash');
    expect(badPathReason('/v1/a%zz')).toBe('bad_encoding');
    expect(badPathReason('/v1/a%')).toBe('bad_encoding');
  });

  it('refuses empty segments: a target starting //host/ names another authority to URL parsers', () => {
    expect(badPathReason('//evil.example/v1/chat/completions')).toBe('empty_segment');
    expect(badPathReason('/v1//evil.example/chat/completions')).toBe('empty_segment');
    expect(badPathReason('/v1http://evil.example/')).toBe('empty_segment');
  });

  it('lets ordinary paths through, dots inside names included', () => {
    for (const p of [
      '/v1/chat/completions',
      '/v1/models/gpt-4.1',
      '/v1/files/a..b',
      '/v1/x/...',
      '/v1/a%20b',
    ])
      expect(badPathReason(p), p).toBeNull();
  });
});
