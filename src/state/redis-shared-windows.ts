import type { Clock } from '../core/clock.js';
import type {
  IncidentClaims,
  MergedListener,
  SharedSet,
  SharedSetSpec,
  SharedWindow,
  SharedWindows,
  SharedWindowSpec,
} from '../detection/shared-windows.js';
import { stateUnavailable, type SharedStateOptions } from './redis-connection.js';
import { RedisScript } from './redis-script.js';
import { StateKeyNames } from './state-key-names.js';

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

/** KEYS: the incident. ARGV: alert id, ttl ms. Returns the id of the alert that owns the incident. */
const CLAIM = new RedisScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return ARGV[1] end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('GET', KEYS[1])
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
    this.names = new StateKeyNames(o.keySecret);
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
          if (w.subjects.size >= this.maxSubjects) return null;
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
          if (w.subjects.size >= this.maxSubjects) return null;
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
    if (++this.flushes % 25 === 0) this.forgetIdle(nowMs);
    if (sent.length === 0 && sentSets.length === 0) return;
    const pipeline = this.o.client.pipeline();
    for (let i = 0; i < sent.length; i += this.keysPerCall) {
      const part = sent.slice(i, i + this.keysPerCall);
      const args: (string | number)[] = [nowMs];
      for (const e of part) args.push(e.w.spec.windowMs, e.w.spec.bucketMs, e.bucket, e.delta);
      ADD_MANY.queue(
        pipeline,
        part.map((e) => e.s.key),
        args,
      );
    }
    const windowCalls = Math.ceil(sent.length / this.keysPerCall);
    for (let i = 0; i < sentSets.length; i += this.keysPerCall) {
      const part = sentSets.slice(i, i + this.keysPerCall);
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
    }
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      results = Array.from({ length: windowCalls + Math.ceil(sentSets.length / this.keysPerCall) }, () => [
        e,
        null,
      ]);
    }
    let failure: Error | null = null;
    for (let c = 0; c * this.keysPerCall < sentSets.length; c++) {
      const [err, members] = results?.[windowCalls + c] ?? [new Error('no reply'), null];
      const part = sentSets.slice(c * this.keysPerCall, (c + 1) * this.keysPerCall);
      if (err || !Array.isArray(members)) {
        failure ??= err ?? new Error('bad reply');
        for (const e of part) {
          for (const [m, ms] of e.members)
            if (!e.s.pending.has(m) && ms > nowMs - e.w.spec.windowMs) e.s.pending.set(m, ms);
          e.w.dirty.add(e.subject);
        }
        continue;
      }
      part.forEach((e, i) => {
        e.s.merged = new Set(members[i] as string[]);
        e.s.mergedAtMs = nowMs;
        e.w.onMerged?.(e.subject, Math.min(e.w.spec.maxMembers, unionSize(e.s.merged, e.s.pending)), nowMs);
      });
    }
    for (let c = 0; c * this.keysPerCall < sent.length; c++) {
      const [err, totals] = results?.[c] ?? [new Error('no reply'), null];
      const part = sent.slice(c * this.keysPerCall, (c + 1) * this.keysPerCall);
      if (err || !Array.isArray(totals)) {
        failure ??= err ?? new Error('bad reply');
        this.requeue(part, nowMs);
        continue;
      }
      part.forEach((e, i) => {
        e.s.unconfirmed -= e.delta;
        e.s.merged = Number(totals[i]);
        e.s.mergedAtMs = nowMs;
      });
      // One call per subject, with its total after the last of its deltas.
      const last = new Map<SubjectState, Sent>();
      for (const e of part) last.set(e.s, e);
      for (const e of last.values()) e.w.onMerged?.(e.subject, e.s.merged + e.s.unconfirmed, nowMs);
    }
    if (failure) this.o.onUnavailable?.(stateUnavailable('window.flush', failure));
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

  async claim(incident: string, alertId: string, ttlMs: number): Promise<string | null> {
    try {
      const owner = await CLAIM.run(
        this.o.client,
        [`${this.prefix}inc:${this.names.of(incident)}`],
        [alertId, Math.max(1, Math.round(ttlMs))],
      );
      return typeof owner === 'string' ? owner : null;
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
