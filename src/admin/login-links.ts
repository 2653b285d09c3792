/**
 * One-time sign-in links for the dashboard, like Jupyter's `?token=` link: `tollgate serve` prints
 * one at start, so a first run needs no token copied from a file. A link works once and only for
 * a short time; what it grants is an ordinary dashboard session. Only a SHA-256 of each link's
 * secret is kept, so a heap dump does not hold a usable link.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { randomBase62 } from '../access/random-token.js';

/** Link secrets: `tgl-` and 32 base62 characters (≈ 190 bits). */
export const LOGIN_LINK_PREFIX = 'tgl-';

/** How long a printed link works (default). */
export const LOGIN_LINK_TTL_MS = 15 * 60_000;

/** At most this many unused links are kept; issuing one more forgets the oldest. */
const MAX_LINKS = 16;

function digest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The single-use, short-lived sign-in secrets issued by this process (in memory: a restart voids them). */
export class LoginLinks {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    readonly ttlMs: number = LOGIN_LINK_TTL_MS,
  ) {}

  /** A new secret for a link; it signs in once, until `ttlMs` from now. */
  issue(): string {
    const now = this.clock.now();
    for (const [d, exp] of this.expiries) if (now >= exp) this.expiries.delete(d);
    while (this.expiries.size >= MAX_LINKS) {
      const oldest = this.expiries.keys().next().value;
      if (oldest === undefined) break;
      this.expiries.delete(oldest);
    }
    const secret = LOGIN_LINK_PREFIX + randomBase62(32);
    this.expiries.set(digest(secret), now + this.ttlMs);
    return secret;
  }

  /**
   * True once for a live secret, which is then forgotten (a second use, or a use after expiry,
   * is false). The lookup is by digest, so timing says nothing about a guessed secret's prefix.
   */
  consume(presented: string | null | undefined): boolean {
    if (!presented || !presented.startsWith(LOGIN_LINK_PREFIX)) return false;
    const d = digest(presented);
    const exp = this.expiries.get(d);
    if (exp === undefined) return false;
    this.expiries.delete(d);
    return this.clock.now() < exp;
  }
}
