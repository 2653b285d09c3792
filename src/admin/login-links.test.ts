import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { LoginLinks } from './login-links.js';

describe('LoginLinks', () => {
  it('a link signs in once, and not after it expired', () => {
    const clock = new ManualClock();
    const links = new LoginLinks(clock, 60_000);
    const a = links.issue();
    const b = links.issue();
    expect(a).toMatch(/^tgl-[0-9A-Za-z]{32}$/);
    expect(a).not.toBe(b);
    expect(links.consume(a)).toBe(true);
    expect(links.consume(a)).toBe(false);
    clock.advance(60_000);
    expect(links.consume(b)).toBe(false);
    expect(links.consume(null)).toBe(false);
    expect(links.consume('tga-not-a-link')).toBe(false);
  });

  it('keeps at most 16 unused links (the oldest is forgotten)', () => {
    const links = new LoginLinks(new ManualClock());
    const first = links.issue();
    const rest = Array.from({ length: 16 }, () => links.issue());
    expect(links.consume(first)).toBe(false);
    expect(rest.every((l) => links.consume(l))).toBe(true);
  });
});
