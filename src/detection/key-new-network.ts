import type { AlertCandidate, Detector, DetectorResult } from './detector.js';
import { BoundedStateMap } from './bounded-state-map.js';
import { resolveConfig } from './config-check.js';
import { isAuthFailure } from './event-outcome.js';
import { networkPrefix } from './network-prefix.js';
import type { SharedWindows } from './shared-windows.js';

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

/**
 * `key.new-network`: a key used successfully from a /24 (IPv4) or /48 (IPv6) it was never used from.
 *
 * With `shared` windows (replicas), the networks a key was used from, its first use and its use
 * count live in Redis (one hash per key, key and networks named by their keyed hash), and the
 * warm-up and quarantine are decided there once for every replica: a network first seen on one
 * replica is not new on the others, and a key warmed up on any replica is warmed up on all. A
 * replica without a fresh shared record of the key waits for its flush (a new network then fires
 * late); while Redis is down it decides on its own record, as a single replica does.
 */
export function createNewNetworkDetector(
  override?: Partial<NewNetworkConfig>,
  shared?: SharedWindows,
): Detector {
  const cfg = resolveConfig('key.new-network', DEFAULT_NEW_NETWORK_CONFIG, override);
  const state = new BoundedStateMap<KeyState>(cfg.ttlMs, cfg.maxSubjects);
  let fireLate: ((r: DetectorResult, nowMs: number) => void) | null = null;
  const sightings =
    shared?.openSightings(
      'key.networks',
      {
        ttlMs: cfg.ttlMs,
        // Room for networks in quarantine beside the known ones.
        maxMembers: 2 * cfg.maxNetworksPerKey,
        warmupMs: cfg.warmupMs,
        warmupEvents: cfg.warmupEvents,
        quarantineMs: cfg.quarantineMs,
      },
      (keyId, net, knownFrom, sighting, view, nowMs) => {
        // New at its sighting, and not raised then (this replica had no fresh record of the key).
        if (sighting.raised || knownFrom <= sighting.firstMs || knownFrom <= nowMs) return;
        if (view.known >= cfg.maxNetworksPerKey) return;
        fireLate?.(
          candidate(keyId, net, null, view.known, knownFrom - cfg.quarantineMs - view.firstMs, 1),
          nowMs,
        );
      },
    ) ?? null;

  function candidate(
    keyId: string,
    net: string,
    ip: string | null,
    known: number,
    seenForMs: number,
    pending: number,
  ): AlertCandidate {
    return {
      subject: { kind: 'api_key', value: keyId },
      title: `Key ${keyId} used from a new network ${net}`,
      description: `First use of this key from ${net}${ip === null ? '' : ` (client ${ip})`}; known networks: ${known}, key seen for ${Math.round(seenForMs / 3_600_000)} h.`,
      figures: {
        observed: known + pending,
        baseline: known,
        threshold: known,
        window_ms: seenForMs,
        unit: 'networks',
      },
    };
  }

  /** The decision on every replica's record, for a network it recorded: a candidate when it is new for the key. */
  function decideShared(
    keyId: string,
    net: string,
    ip: string,
    from: number,
    now: number,
  ): AlertCandidate | null {
    if (from <= now) return null;
    const view = sightings!.view(keyId, now);
    if (view === null || view.known >= cfg.maxNetworksPerKey) return null;
    return candidate(keyId, net, ip, view.known, now - view.firstMs, 1);
  }

  /** The decision on this replica's own record (one replica, or Redis down). */
  function decideOwn(
    s: KeyState,
    keyId: string,
    net: string,
    ip: string,
    now: number,
  ): AlertCandidate | null {
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
    return candidate(keyId, net, ip, s.known.size, now - s.firstMs, s.pending.size);
  }

  let lastIp: string | null = null;
  let lastNet: string | null = null;

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
      // Requests come from few addresses in a row (one client, a proxy): the last one's network is kept.
      if (ip !== lastIp) {
        lastIp = ip;
        lastNet = networkPrefix(ip);
      }
      const net = lastNet;
      if (net === null) return null;
      const now = ctx.nowMs;
      const s = state.touch(keyId, now, () => ({
        firstMs: now,
        events: 0,
        known: new Set(),
        pending: new Map(),
      }));
      s.events++;
      // This replica's record is kept either way: it decides while Redis is down.
      const own = decideOwn(s, keyId, net, ip, now);
      if (sightings === null) return own;
      const from = sightings.knownFrom(keyId, net, now);
      // Not in the shared record known here (a network this replica has not sent, or no fresh
      // record) while the shared store answers: the flush decides (late firing).
      const c = from !== null ? decideShared(keyId, net, ip, from, now) : shared!.available() ? null : own;
      sightings.see(keyId, net, now, c !== null);
      return c;
    },
    sweep: (nowMs) => state.sweep(nowMs),
    bindLateFiring: (fire) => {
      fireLate = fire;
    },
  };
}
