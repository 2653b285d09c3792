import type { Detector } from './detector.js';
import { BoundedStateMap } from './bounded-state-map.js';
import { resolveConfig } from './config-check.js';
import { isAuthFailure } from './event-outcome.js';
import { networkPrefix } from './network-prefix.js';

export interface NewNetworkConfig {
  /** A key's networks are learned silently until it has been seen this long… */
  warmupMs: number;
  /** …and has made this many authenticated requests. */
  warmupEvents: number;
  /** A new network stays suspicious (its requests fire) this long after its first request, then is learned. */
  quarantineMs: number;
  /** Keys already seen from this many networks roam by nature (mobile, CI); they raise no alert. */
  maxNetworksPerKey: number;
  /** A key unused this long is forgotten and starts a new warm-up. */
  ttlMs: number;
  maxSubjects: number;
}

export const DEFAULT_NEW_NETWORK_CONFIG: NewNetworkConfig = {
  // A person's networks follow a weekly cycle (office, home, the odd evening): learn a week.
  warmupMs: 7 * 24 * 60 * 60_000,
  warmupEvents: 50,
  quarantineMs: 60 * 60_000,
  maxNetworksPerKey: 16,
  ttlMs: 14 * 24 * 60 * 60_000,
  maxSubjects: 200_000,
};

interface KeyState {
  firstMs: number;
  events: number;
  known: Set<string>;
  /** Network → first request ms, while in quarantine. */
  pending: Map<string, number>;
}

/** `key.new-network`: a key used successfully from a /24 (IPv4) or /48 (IPv6) it was never used from. */
export function createNewNetworkDetector(override?: Partial<NewNetworkConfig>): Detector {
  const cfg = resolveConfig('key.new-network', DEFAULT_NEW_NETWORK_CONFIG, override);
  const state = new BoundedStateMap<KeyState>(cfg.ttlMs, cfg.maxSubjects);
  return {
    id: 'key.new-network',
    severity: 'HIGH',
    // One alert per network while it is in quarantine, however sparse its requests.
    cooldownMs: cfg.quarantineMs,
    description: `A key used from a network (/24 or /48) never seen for it, after a warm-up of ${cfg.warmupEvents} requests and ${Math.round(cfg.warmupMs / 3_600_000)} h.`,
    observe(event, ctx) {
      const keyId = event.api_key_id;
      const ip = event.ip_address;
      // A refused credential is not a use of the key: stuffing belongs to auth.repeated-failures.
      if (keyId === null || ip === null || isAuthFailure(event)) return null;
      const net = networkPrefix(ip);
      if (net === null) return null;
      const now = ctx.nowMs;
      const s = state.touch(keyId, now, () => ({
        firstMs: now,
        events: 0,
        known: new Set(),
        pending: new Map(),
      }));
      s.events++;
      if (s.known.has(net)) return null;
      const warming = s.events <= cfg.warmupEvents || now - s.firstMs < cfg.warmupMs;
      if (warming || s.known.size >= cfg.maxNetworksPerKey) {
        if (s.known.size < cfg.maxNetworksPerKey) s.known.add(net);
        return null;
      }
      let since = s.pending.get(net);
      if (since === undefined) {
        since = now;
        if (s.pending.size >= cfg.maxNetworksPerKey) s.pending.delete(s.pending.keys().next().value!);
        s.pending.set(net, now);
      }
      if (now - since >= cfg.quarantineMs) {
        s.pending.delete(net);
        s.known.add(net);
        return null;
      }
      return {
        subject: { kind: 'api_key', value: keyId },
        title: `Key ${keyId} used from a new network ${net}`,
        description: `First use of this key from ${net} (client ${ip}); known networks: ${s.known.size}, key seen for ${Math.round((now - s.firstMs) / 3_600_000)} h.`,
        figures: {
          observed: s.known.size + s.pending.size,
          baseline: s.known.size,
          threshold: s.known.size,
          window_ms: now - s.firstMs,
          unit: 'networks',
        },
      };
    },
    sweep: (nowMs) => state.sweep(nowMs),
  };
}
