import type { ChainableCommander } from 'ioredis';
import type { Clock } from '../core/clock.js';
import {
  extendRun,
  NO_RUN,
  type GrowthRun,
  type IncidentClaim,
  type IncidentClaims,
  type MergedListener,
  type RunListener,
  type SharedRuns,
  type SharedRunSpec,
  type SharedSet,
  type SharedSetSpec,
  type SharedSightings,
  type SharedWindow,
  type SharedWindows,
  type SharedWindowSpec,
  type SightingListener,
  type SightingsSpec,
  type SightingsView,
} from '../detection/shared-windows.js';
import { stateUnavailable, type SharedStateOptions } from './redis-connection.js';
import { RedisScript } from './redis-script.js';
import { keyNamesFor, StateKeyNames } from './state-key-names.js';

/**
 * KEYS: one window hash per entry (field = bucket start ms, value = sum); a key may repeat.
 * ARGV: now, then per key: windowMs, bucketMs, bucket start, delta. Adds each delta to its bucket,
 * drops buckets that left the window, and returns each window's sum after its own delta.
 */
const ADD_MANY = new RedisScript(`
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local windowMs = tonumber(ARGV[i * 4 - 2])
  local bucketMs = tonumber(ARGV[i * 4 - 1])
  local delta = tonumber(ARGV[i * 4 + 1])
  if delta ~= 0 then redis.call('HINCRBYFLOAT', KEYS[i], ARGV[i * 4], delta) end
  local cutoff = now - windowMs
  local total = 0
  local all = redis.call('HGETALL', KEYS[i])
  for j = 1, #all, 2 do
    if tonumber(all[j]) + bucketMs <= cutoff then
      redis.call('HDEL', KEYS[i], all[j])
    else
      total = total + tonumber(all[j + 1])
    end
  end
  redis.call('PEXPIRE', KEYS[i], windowMs + bucketMs)
  out[i] = tostring(total)
end
return out
`);

/**
 * KEYS: one sorted set per subject (member = keyed hash of the member, score = last seen ms).
 * ARGV: now, then per key: windowMs, maxMembers, n, then n pairs (member, ms). Adds the members,
 * drops those last seen before the window and all but the newest maxMembers, returns the members.
 */
const ADD_MEMBERS = new RedisScript(`
local now = tonumber(ARGV[1])
local p = 2
local out = {}
for i = 1, #KEYS do
  local windowMs = tonumber(ARGV[p])
  local maxMembers = tonumber(ARGV[p + 1])
  local n = tonumber(ARGV[p + 2])
  p = p + 3
  for j = 1, n do
    redis.call('ZADD', KEYS[i], tonumber(ARGV[p + 1]), ARGV[p])
    p = p + 2
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - windowMs)
  local extra = redis.call('ZCARD', KEYS[i]) - maxMembers
  if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[i], 0, extra - 1) end
  redis.call('PEXPIRE', KEYS[i], windowMs)
  out[i] = redis.call('ZRANGE', KEYS[i], 0, -1)
end
return out
`);

/**
 * KEYS: one hash per subject (fields l, r, s: last value, run length, run start).
 * ARGV: per key: ttlMs, n, then n values in the order this replica saw them. Extends the run
 * exactly as `extendRun` does (larger grows, smaller restarts, equal keeps) and returns {l, r, s}.
 */
const EXTEND_RUNS = new RedisScript(`
local p = 1
local out = {}
for i = 1, #KEYS do
  local ttl = ARGV[p]
  local n = tonumber(ARGV[p + 1])
  p = p + 2
  local cur = redis.call('HMGET', KEYS[i], 'l', 'r', 's')
  local last = tonumber(cur[1]) or -1
  local run = tonumber(cur[2]) or 0
  local start = tonumber(cur[3]) or 0
  for j = 1, n do
    local v = tonumber(ARGV[p])
    p = p + 1
    if v > last and run > 0 then run = run + 1
    elseif v < last or run == 0 then run = 1; start = v end
    last = v
  end
  redis.call('HSET', KEYS[i], 'l', last, 'r', run, 's', start)
  redis.call('PEXPIRE', KEYS[i], ttl)
  out[i] = {tostring(last), tostring(run), tostring(start)}
end
return out
`);

/**
 * KEYS: one hash per subject: field _f = first sighting ms, _e = sightings, and per member (keyed
 * hash) the ms from which it is known. ARGV: now, then per key: ttlMs, maxMembers, warmupMs,
 * warmupEvents, quarantineMs, first ms, sightings, n, then n triples (member, first ms, sightings
 * before it in this batch). A member not recorded yet is known from its sighting while the subject
 * warms up, else a quarantine later (the earliest writer decides; a later one can only move it
 * earlier). Returns per key {first ms, sightings, members known by now, then each sent member's
 * known-from ms ('' when not recorded: the subject is full)}: not the whole hash, which a busy key
 * would send back at every flush.
 */
const SIGHT = new RedisScript(`
local now = tonumber(ARGV[1])
local p = 2
local out = {}
for i = 1, #KEYS do
  local ttl = ARGV[p]
  local maxMembers = tonumber(ARGV[p + 1])
  local warmupMs = tonumber(ARGV[p + 2])
  local warmupEvents = tonumber(ARGV[p + 3])
  local quarantineMs = tonumber(ARGV[p + 4])
  local first = tonumber(ARGV[p + 5])
  local events = tonumber(ARGV[p + 6])
  local n = tonumber(ARGV[p + 7])
  p = p + 8
  local cur = redis.call('HMGET', KEYS[i], '_f', '_e')
  local f = tonumber(cur[1])
  if f == nil or first < f then f = first; redis.call('HSET', KEYS[i], '_f', f) end
  local e = tonumber(cur[2]) or 0
  local count = redis.call('HLEN', KEYS[i]) - 1
  if cur[2] then count = count - 1 end
  local reply = {}
  for j = 1, n do
    local m = ARGV[p]
    local ms = tonumber(ARGV[p + 1])
    local before = tonumber(ARGV[p + 2])
    p = p + 3
    local from = ms
    if e + before + 1 > warmupEvents and ms - f >= warmupMs then from = ms + quarantineMs end
    local known = tonumber(redis.call('HGET', KEYS[i], m))
    if known == nil then
      if count < maxMembers then redis.call('HSET', KEYS[i], m, from); count = count + 1; known = from end
    elseif from < known then
      redis.call('HSET', KEYS[i], m, from); known = from
    end
    reply[j + 3] = known and tostring(known) or ''
  end
  e = redis.call('HINCRBY', KEYS[i], '_e', events)
  local knownNow = 0
  for _, v in ipairs(redis.call('HVALS', KEYS[i])) do
    if tonumber(v) <= now then knownNow = knownNow + 1 end
  end
  -- _f and _e are values too, both at or before now
  reply[1] = tostring(f)
  reply[2] = tostring(e)
  reply[3] = tostring(knownNow - 2)
  redis.call('PEXPIRE', KEYS[i], ttl)
  out[i] = reply
end
return out
`);

/**
 * KEYS: the incident (SET NX: its owner alert id), its highest severity rank so far. ARGV: alert
 * id, ttl ms, severity rank. Returns {owner id, 1 when this claim raised the severity else 0}.
 */
const CLAIM = new RedisScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
  return {ARGV[1], 0}
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local esc = 0
if tonumber(ARGV[3]) > (tonumber(redis.call('GET', KEYS[2])) or 0) then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
  esc = 1
else
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return {redis.call('GET', KEYS[1]), esc}
`);

export interface RedisSharedWindowsOptions extends SharedStateOptions {
  clock: Clock;
  /** Counts are sent in one pipeline this often (default 200 ms). */
  flushMs?: number;
  /** A merged total older than this is not used (default max(1 s, 5 flushes)): the detector falls back to its own window. */
  staleMs?: number;
  /** Subjects tracked per window; past it, new subjects are counted in process only (default 100 000). */
  maxSubjects?: number;
  /** Window keys per script call (default 256); a flush sends all its calls in one pipeline. */
  keysPerCall?: number;
}

interface SubjectState {
  /** The Redis key, named by the subject's keyed hash (subjects may be user ids or IPs: never stored as they are). */
  key: string;
  merged: number;
  mergedAtMs: number;
  /** Added here and not yet part of `merged` (pending plus in flight). */
  unconfirmed: number;
  /** Pending deltas by bucket start, sent at the next flush. */
  pending: Map<number, number>;
}

interface WindowState {
  name: string;
  spec: SharedWindowSpec;
  onMerged: MergedListener | undefined;
  subjects: Map<string, SubjectState>;
  dirty: Set<string>;
}

interface SetSubjectState {
  key: string;
  /** Members of the merged set at the last flush (hashed). */
  merged: Set<string>;
  mergedAtMs: number;
  /** Members added here since (hashed → last ms), sent at the next flush. */
  pending: Map<string, number>;
}

interface SetState {
  name: string;
  spec: SharedSetSpec;
  onMerged: MergedListener | undefined;
  subjects: Map<string, SetSubjectState>;
  dirty: Set<string>;
}

interface RunSubjectState {
  key: string;
  merged: GrowthRun;
  mergedAtMs: number;
  /** Values appended here and not yet sent. */
  pending: number[];
  /** Values of the flush in flight. */
  inFlight: number[];
}

interface RunsState {
  spec: SharedRunSpec;
  onMerged: RunListener | undefined;
  subjects: Map<string, RunSubjectState>;
  dirty: Set<string>;
}

interface Sighting {
  /** The member as the detector knows it (kept in this process only; Redis gets its keyed hash). */
  member: string;
  firstMs: number;
  /** Sightings of the subject before this member's first one, in the same batch. */
  before: number;
  raised: boolean;
}

interface SightSubjectState {
  key: string;
  firstMs: number;
  events: number;
  /** Member hash → ms from which it is known, for the members this replica sent (values only move earlier). */
  members: Map<string, number>;
  /** Members known at the last flush (all replicas'). */
  known: number;
  mergedAtMs: number;
  /** Sightings not yet sent: the subject's first ms and count, and the members by hash. */
  pendingFirstMs: number;
  pendingEvents: number;
  pending: Map<string, Sighting>;
  /** Sightings sent and not yet answered. */
  inFlightEvents: number;
}

interface SightingsState {
  spec: SightingsSpec;
  onMerged: SightingListener | undefined;
  subjects: Map<string, SightSubjectState>;
  dirty: Set<string>;
}

/** One script call of a flush: queued into the pipeline, then given its reply or the failure. */
interface FlushCall {
  queue(pipeline: ChainableCommander): void;
  done(reply: unknown): void;
  failed(): void;
}

/**
 * A key's merged sightings stay usable this long, and a use that changes nothing shared (the key
 * warmed up, the network known) is not sent again within it: known-from times only move earlier
 * and a warm-up only progresses, so an older record never calls a known network new; a network
 * this replica has not had merged is decided at the flush anyway. Sending at least this often
 * keeps the record's expiry (the rule's ttl, days) moving.
 */
const SIGHTINGS_FRESH_MS = 10 * 60_000;

/** Values kept per run subject while they cannot be sent (oldest dropped first). */
const MAX_PENDING_VALUES = 1024;

interface Sent {
  w: WindowState;
  subject: string;
  s: SubjectState;
  bucket: number;
  delta: number;
}

function unionSize(a: ReadonlySet<string>, b: ReadonlyMap<string, number>): number {
  let n = a.size;
  for (const m of b.keys()) if (!a.has(m)) n++;
  return n;
}

/**
 * Detector windows shared through Redis with batched, atomic updates: `add` only touches memory
 * (the request path never waits for Redis); a timer sends the counted deltas of every window in
 * one pipeline of Lua calls, each of which adds to bucketed hash counters with an expiry and
 * returns the merged window totals, which `add` serves until the next flush.
 *
 * Unavailable Redis: the deltas are kept for the next flush (while their buckets are in the
 * window), merged totals go stale, and the detectors count on their own windows; the failure is
 * reported through `onUnavailable` (one alert per outage, see shared-state-health.ts).
 */
export class RedisSharedWindows implements SharedWindows, IncidentClaims {
  private readonly windows: WindowState[] = [];
  private readonly sets: SetState[] = [];
  private readonly runs: RunsState[] = [];
  private readonly sightings: SightingsState[] = [];
  /** False from a failed flush until one succeeds. */
  private lastFlushOk = true;
  /** A subject was refused for `maxSubjects` since the last forgetting of idle ones. */
  private full = false;
  private readonly prefix: string;
  private readonly flushMs: number;
  private readonly staleMs: number;
  private readonly maxSubjects: number;
  private readonly keysPerCall: number;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | null = null;
  private flushes = 0;
  /** Subjects and members (user ids, IPs, key fingerprints) are named by their keyed hash. */
  private readonly names: StateKeyNames;

  constructor(private readonly o: RedisSharedWindowsOptions) {
    this.prefix = o.prefix ?? 'tg:';
    this.names = keyNamesFor(o.keySecret);
    this.flushMs = o.flushMs ?? 200;
    this.staleMs = o.staleMs ?? Math.max(1000, 5 * this.flushMs);
    this.maxSubjects = o.maxSubjects ?? 100_000;
    this.keysPerCall = o.keysPerCall ?? 256;
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  open(name: string, spec: SharedWindowSpec, onMerged?: MergedListener): SharedWindow {
    const w: WindowState = { name, spec, onMerged, subjects: new Map(), dirty: new Set() };
    this.windows.push(w);
    const fresh = (s: SubjectState | undefined, nowMs: number): number | null =>
      s !== undefined && nowMs - s.mergedAtMs <= this.staleMs ? s.merged + s.unconfirmed : null;
    return {
      add: (subject, amount, nowMs) => {
        let s = w.subjects.get(subject);
        if (s === undefined) {
          if (w.subjects.size >= this.maxSubjects) return this.refuse();
          s = {
            key: `${this.prefix}dw:${name}:${this.names.of(subject)}`,
            merged: 0,
            mergedAtMs: -Infinity,
            unconfirmed: 0,
            pending: new Map(),
          };
          w.subjects.set(subject, s);
        }
        const bucket = nowMs - (nowMs % spec.bucketMs);
        s.pending.set(bucket, (s.pending.get(bucket) ?? 0) + amount);
        s.unconfirmed += amount;
        w.dirty.add(subject);
        return fresh(s, nowMs);
      },
      total: (subject, nowMs) => fresh(w.subjects.get(subject), nowMs),
    };
  }

  openSet(name: string, spec: SharedSetSpec, onMerged?: MergedListener): SharedSet {
    const w: SetState = { name, spec, onMerged, subjects: new Map(), dirty: new Set() };
    this.sets.push(w);
    return {
      add: (subject, member, nowMs) => {
        let s = w.subjects.get(subject);
        if (s === undefined) {
          if (w.subjects.size >= this.maxSubjects) return this.refuse();
          s = {
            key: `${this.prefix}ds:${name}:${this.names.of(subject)}`,
            merged: new Set(),
            mergedAtMs: -Infinity,
            pending: new Map(),
          };
          w.subjects.set(subject, s);
        }
        const m = this.names.of(member);
        s.pending.delete(m);
        s.pending.set(m, nowMs);
        if (s.pending.size > spec.maxMembers) s.pending.delete(s.pending.keys().next().value!);
        w.dirty.add(subject);
        return nowMs - s.mergedAtMs <= this.staleMs
          ? Math.min(spec.maxMembers, unionSize(s.merged, s.pending))
          : null;
      },
    };
  }

  available(): boolean {
    return this.lastFlushOk && !this.full;
  }

  /** A subject past `maxSubjects` is not tracked: until idle ones are forgotten, rules decide on their own. */
  private refuse(): null {
    this.full = true;
    return null;
  }

  openRuns(name: string, spec: SharedRunSpec, onMerged?: RunListener): SharedRuns {
    const w: RunsState = { spec, onMerged, subjects: new Map(), dirty: new Set() };
    this.runs.push(w);
    return {
      add: (subject, value, nowMs) => {
        let s = w.subjects.get(subject);
        if (s === undefined) {
          if (w.subjects.size >= this.maxSubjects) return this.refuse();
          s = {
            key: `${this.prefix}dr:${name}:${this.names.of(subject)}`,
            merged: NO_RUN,
            mergedAtMs: -Infinity,
            pending: [],
            inFlight: [],
          };
          w.subjects.set(subject, s);
        }
        s.pending.push(value);
        if (s.pending.length > MAX_PENDING_VALUES) s.pending.shift();
        w.dirty.add(subject);
        if (nowMs - s.mergedAtMs > this.staleMs) return null;
        let r = s.merged;
        for (const v of s.inFlight) r = extendRun(r, v);
        for (const v of s.pending) r = extendRun(r, v);
        return r;
      },
    };
  }

  openSightings(name: string, spec: SightingsSpec, onMerged?: SightingListener): SharedSightings {
    const w: SightingsState = { spec, onMerged, subjects: new Map(), dirty: new Set() };
    this.sightings.push(w);
    const fresh = (subject: string, nowMs: number): SightSubjectState | null => {
      const s = w.subjects.get(subject);
      return s === undefined || nowMs - s.mergedAtMs > SIGHTINGS_FRESH_MS ? null : s;
    };
    return {
      knownFrom: (subject, member, nowMs) => {
        if (!w.subjects.has(subject) && w.subjects.size >= this.maxSubjects) return this.refuse();
        const s = fresh(subject, nowMs);
        return s === null ? null : (s.members.get(this.names.of(member)) ?? null);
      },
      view: (subject, nowMs) => {
        const s = fresh(subject, nowMs);
        return s === null ? null : this.sightingsView(s);
      },
      see: (subject, member, nowMs, raised) => {
        let s = w.subjects.get(subject);
        if (s === undefined) {
          if (w.subjects.size >= this.maxSubjects) return void this.refuse();
          s = {
            key: `${this.prefix}dk:${name}:${this.names.of(subject)}`,
            firstMs: Infinity,
            events: 0,
            members: new Map(),
            known: 0,
            mergedAtMs: -Infinity,
            pendingFirstMs: Infinity,
            pendingEvents: 0,
            pending: new Map(),
            inFlightEvents: 0,
          };
          w.subjects.set(subject, s);
        }
        const h = this.names.of(member);
        const known = s.members.get(h);
        if (
          !raised &&
          known !== undefined &&
          known <= nowMs &&
          s.events > spec.warmupEvents &&
          nowMs - s.firstMs >= spec.warmupMs &&
          nowMs - s.mergedAtMs <= SIGHTINGS_FRESH_MS
        )
          return; // nothing shared would change: a warmed-up key on a known network
        const p = s.pending.get(h);
        if (p !== undefined) p.raised ||= raised;
        else if (s.pending.size < spec.maxMembers) {
          s.pending.set(h, { member, firstMs: nowMs, before: s.pendingEvents, raised });
        }
        s.pendingEvents++;
        if (nowMs < s.pendingFirstMs) s.pendingFirstMs = nowMs;
        w.dirty.add(subject);
      },
    };
  }

  private sightingsView(s: SightSubjectState): SightingsView {
    return {
      firstMs: Math.min(s.firstMs, s.pendingFirstMs),
      events: s.events + s.inFlightEvents + s.pendingEvents,
      known: s.known,
    };
  }

  /** Sends the pending deltas of every window (one pipeline) and reads back the merged totals. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.flushOnce().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const nowMs = this.o.clock.now();
    const sent: Sent[] = [];
    for (const w of this.windows) {
      for (const subject of w.dirty) {
        const s = w.subjects.get(subject);
        if (!s) continue;
        for (const [bucket, delta] of s.pending) sent.push({ w, subject, s, bucket, delta });
        s.pending.clear();
      }
      w.dirty.clear();
    }
    const sentSets = this.takeSetMembers();
    // Set replies first: a window's listener may read the distinct count merged in the same flush.
    const calls: FlushCall[] = [
      ...this.chunks(sentSets).map((part) => this.setCall(part, nowMs)),
      ...this.chunks(sent).map((part) => this.windowCall(part, nowMs)),
      ...this.runCalls(nowMs),
      ...this.sightingCalls(nowMs),
    ];
    if (++this.flushes % 25 === 0) this.forgetIdle(nowMs);
    if (calls.length === 0) return;
    const pipeline = this.o.client.pipeline();
    for (const c of calls) c.queue(pipeline);
    let results: [Error | null, unknown][] | null;
    let failure: Error | null = null;
    try {
      results = await pipeline.exec();
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      results = null;
    }
    calls.forEach((c, i) => {
      const [err, reply] = results?.[i] ?? [failure ?? new Error('no reply'), null];
      if (err || !Array.isArray(reply)) {
        failure ??= err ?? new Error('bad reply');
        c.failed();
      } else c.done(reply);
    });
    this.lastFlushOk = failure === null;
    if (failure) this.o.onUnavailable?.(stateUnavailable('window.flush', failure));
  }

  private chunks<T>(list: readonly T[]): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < list.length; i += this.keysPerCall) out.push(list.slice(i, i + this.keysPerCall));
    return out;
  }

  private windowCall(part: Sent[], nowMs: number): FlushCall {
    return {
      queue: (pipeline) => {
        const args: (string | number)[] = [nowMs];
        for (const e of part) args.push(e.w.spec.windowMs, e.w.spec.bucketMs, e.bucket, e.delta);
        ADD_MANY.queue(
          pipeline,
          part.map((e) => e.s.key),
          args,
        );
      },
      done: (reply) => {
        const totals = reply as unknown[];
        part.forEach((e, i) => {
          e.s.unconfirmed -= e.delta;
          e.s.merged = Number(totals[i]);
          e.s.mergedAtMs = nowMs;
        });
        // One call per subject, with its total after the last of its deltas.
        const last = new Map<SubjectState, Sent>();
        for (const e of part) last.set(e.s, e);
        for (const e of last.values()) e.w.onMerged?.(e.subject, e.s.merged + e.s.unconfirmed, nowMs);
      },
      failed: () => this.requeue(part, nowMs),
    };
  }

  private setCall(part: ReturnType<RedisSharedWindows['takeSetMembers']>, nowMs: number): FlushCall {
    return {
      queue: (pipeline) => {
        const args: (string | number)[] = [nowMs];
        for (const e of part) {
          args.push(e.w.spec.windowMs, e.w.spec.maxMembers, e.members.size);
          for (const [m, ms] of e.members) args.push(m, ms);
        }
        ADD_MEMBERS.queue(
          pipeline,
          part.map((e) => e.s.key),
          args,
        );
      },
      done: (reply) => {
        const members = reply as unknown[];
        part.forEach((e, i) => {
          e.s.merged = new Set(members[i] as string[]);
          e.s.mergedAtMs = nowMs;
          e.w.onMerged?.(e.subject, Math.min(e.w.spec.maxMembers, unionSize(e.s.merged, e.s.pending)), nowMs);
        });
      },
      failed: () => {
        for (const e of part) {
          for (const [m, ms] of e.members)
            if (!e.s.pending.has(m) && ms > nowMs - e.w.spec.windowMs) e.s.pending.set(m, ms);
          e.w.dirty.add(e.subject);
        }
      },
    };
  }

  /** The values appended to every run since the last flush, one script call per chunk of subjects. */
  private runCalls(nowMs: number): FlushCall[] {
    const taken: { w: RunsState; subject: string; s: RunSubjectState }[] = [];
    for (const w of this.runs) {
      for (const subject of w.dirty) {
        const s = w.subjects.get(subject);
        if (!s || s.pending.length === 0) continue;
        s.inFlight = s.pending;
        s.pending = [];
        taken.push({ w, subject, s });
      }
      w.dirty.clear();
    }
    return this.chunks(taken).map((part) => ({
      queue: (pipeline) => {
        const args: (string | number)[] = [];
        for (const { w, s } of part) args.push(w.spec.ttlMs, s.inFlight.length, ...s.inFlight);
        EXTEND_RUNS.queue(
          pipeline,
          part.map((e) => e.s.key),
          args,
        );
      },
      done: (reply) => {
        const runs = reply as string[][];
        part.forEach(({ w, subject, s }, i) => {
          const r = runs[i]!;
          s.merged = { last: Number(r[0]), run: Number(r[1]), start: Number(r[2]) };
          s.mergedAtMs = nowMs;
          s.inFlight = [];
          let view = s.merged;
          for (const v of s.pending) view = extendRun(view, v);
          w.onMerged?.(subject, view, nowMs);
        });
      },
      failed: () => {
        for (const { w, subject, s } of part) {
          s.pending = s.inFlight.concat(s.pending).slice(-MAX_PENDING_VALUES);
          s.inFlight = [];
          w.dirty.add(subject);
        }
      },
    }));
  }

  /** The sightings of every subject since the last flush, one script call per chunk of subjects. */
  private sightingCalls(nowMs: number): FlushCall[] {
    const taken: {
      w: SightingsState;
      subject: string;
      s: SightSubjectState;
      firstMs: number;
      events: number;
      members: Map<string, Sighting>;
    }[] = [];
    for (const w of this.sightings) {
      for (const subject of w.dirty) {
        const s = w.subjects.get(subject);
        if (!s || s.pendingEvents === 0) continue;
        taken.push({ w, subject, s, firstMs: s.pendingFirstMs, events: s.pendingEvents, members: s.pending });
        s.inFlightEvents += s.pendingEvents;
        s.pendingEvents = 0;
        s.pendingFirstMs = Infinity;
        s.pending = new Map();
      }
      w.dirty.clear();
    }
    return this.chunks(taken).map((part) => ({
      queue: (pipeline) => {
        const args: (string | number)[] = [nowMs];
        for (const { w, firstMs, events, members } of part) {
          const sp = w.spec;
          args.push(
            sp.ttlMs,
            sp.maxMembers,
            sp.warmupMs,
            sp.warmupEvents,
            sp.quarantineMs,
            firstMs,
            events,
            members.size,
          );
          for (const [h, m] of members) args.push(h, m.firstMs, m.before);
        }
        SIGHT.queue(
          pipeline,
          part.map((e) => e.s.key),
          args,
        );
      },
      done: (reply) => {
        const replies = reply as string[][];
        part.forEach(({ w, subject, s, events, members }, i) => {
          const r = replies[i]!;
          s.firstMs = Number(r[0]);
          s.events = Number(r[1]);
          s.known = Number(r[2]);
          s.inFlightEvents -= events;
          s.mergedAtMs = nowMs;
          const view = w.onMerged ? this.sightingsView(s) : null;
          let j = 3;
          for (const [h, m] of members) {
            const v = r[j++];
            if (v === undefined || v === '') continue;
            const from = Number(v);
            s.members.set(h, from);
            if (view)
              w.onMerged!(subject, m.member, from, { firstMs: m.firstMs, raised: m.raised }, view, nowMs);
          }
        });
      },
      failed: () => {
        for (const { w, subject, s, firstMs, events, members } of part) {
          s.inFlightEvents -= events;
          s.pendingEvents += events;
          s.pendingFirstMs = Math.min(s.pendingFirstMs, firstMs);
          for (const [h, m] of members) {
            const p = s.pending.get(h);
            if (p === undefined) s.pending.set(h, { ...m, before: 0 });
            else p.raised ||= m.raised;
          }
          w.dirty.add(subject);
        }
      },
    }));
  }

  /** The pending members of every set window, taken for a flush. */
  private takeSetMembers(): {
    w: SetState;
    subject: string;
    s: SetSubjectState;
    members: Map<string, number>;
  }[] {
    const out: { w: SetState; subject: string; s: SetSubjectState; members: Map<string, number> }[] = [];
    for (const w of this.sets) {
      for (const subject of w.dirty) {
        const s = w.subjects.get(subject);
        if (!s || s.pending.size === 0) continue;
        out.push({ w, subject, s, members: s.pending });
        s.pending = new Map();
      }
      w.dirty.clear();
    }
    return out;
  }

  /** Deltas of a failed flush wait for the next one while their bucket is still in the window. */
  private requeue(part: readonly Sent[], nowMs: number): void {
    for (const e of part) {
      if (e.bucket + e.w.spec.bucketMs <= nowMs - e.w.spec.windowMs) {
        e.s.unconfirmed -= e.delta;
        continue;
      }
      e.s.pending.set(e.bucket, (e.s.pending.get(e.bucket) ?? 0) + e.delta);
      e.w.dirty.add(e.subject);
    }
  }

  /** Forgets subjects with nothing pending whose merged total went stale (bounded memory). */
  private forgetIdle(nowMs: number): void {
    this.full = false;
    for (const w of this.runs) {
      for (const [subject, s] of w.subjects) {
        if (
          s.pending.length === 0 &&
          s.inFlight.length === 0 &&
          !w.dirty.has(subject) &&
          nowMs - s.mergedAtMs > this.staleMs
        )
          w.subjects.delete(subject);
      }
    }
    for (const w of this.sightings) {
      for (const [subject, s] of w.subjects) {
        if (
          s.pendingEvents === 0 &&
          s.inFlightEvents === 0 &&
          !w.dirty.has(subject) &&
          nowMs - s.mergedAtMs > SIGHTINGS_FRESH_MS
        )
          w.subjects.delete(subject);
      }
    }
    for (const w of this.sets) {
      for (const [subject, s] of w.subjects) {
        if (s.pending.size === 0 && !w.dirty.has(subject) && nowMs - s.mergedAtMs > this.staleMs)
          w.subjects.delete(subject);
      }
    }
    for (const w of this.windows) {
      for (const [subject, s] of w.subjects) {
        if (s.unconfirmed === 0 && !w.dirty.has(subject) && nowMs - s.mergedAtMs > this.staleMs)
          w.subjects.delete(subject);
      }
    }
  }

  async claim(
    incident: string,
    alertId: string,
    ttlMs: number,
    severityRank = 0,
  ): Promise<IncidentClaim | null> {
    try {
      const key = `${this.prefix}inc:${this.names.of(incident)}`;
      const reply = await CLAIM.run(
        this.o.client,
        [key, `${key}:s`],
        [alertId, Math.max(1, Math.round(ttlMs)), severityRank],
      );
      if (!Array.isArray(reply) || typeof reply[0] !== 'string') return null;
      return { owner: reply[0], escalated: Number(reply[1]) === 1 };
    } catch (err) {
      this.o.onUnavailable?.(stateUnavailable('incident.claim', err));
      return null;
    }
  }

  /** Stops the timer after a last flush. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
