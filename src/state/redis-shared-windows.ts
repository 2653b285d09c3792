import type { Clock } from '../core/clock.js';
import {
  extendRun,
  NO_RUN,
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
import { ADD_MANY, ADD_MEMBERS, CLAIM, EXTEND_RUNS, SIGHT } from './redis-window-scripts.js';
import {
  MAX_PENDING_VALUES,
  SIGHTINGS_FRESH_MS,
  unionSize,
  type FlushCall,
  type RunsState,
  type RunSubjectState,
  type Sent,
  type SetState,
  type SetSubjectState,
  type Sighting,
  type SightingsState,
  type SightSubjectState,
  type SubjectState,
  type WindowState,
} from './redis-window-state.js';
import { keyNamesFor, StateKeyNames } from './state-key-names.js';

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
