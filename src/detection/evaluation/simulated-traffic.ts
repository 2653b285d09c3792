/**
 * Realistic benign traffic with labelled incidents, for the detection evaluation
 * (bench/detection-eval.ts, evaluation.test.ts) and usable by `tollgate demo`.
 *
 * Benign: people who chat in sessions during their working hours (a daily rhythm in UTC shifted
 * per person), trim their context, occasionally burst a handful of quick requests, mistype a key,
 * hit a 429 and retry, paste an e-mail address, and now and then work from a hotel network;
 * agent users who run long, context-managed sessions; services with a daily rhythm from two
 * data-centre networks; a forgotten cron still using a rotated key every ten minutes.
 * Incidents: see `IncidentKind`.
 */
import type { AuthResult, EventStatus, RedactionCount } from '../../core/audit-event.js';
import type { BudgetRule } from '../cost-budget.js';
import { SeededRandom } from './seeded-random.js';

export type IncidentKind =
  | 'credential_stuffing'
  | 'leaked_key'
  | 'runaway_loop'
  | 'error_storm'
  | 'context_leak'
  | 'budget_exhaustion'
  | 'secret_in_prompt'
  | 'secret_in_response';

export const INCIDENT_KINDS: readonly IncidentKind[] = [
  'credential_stuffing',
  'leaked_key',
  'runaway_loop',
  'error_storm',
  'context_leak',
  'budget_exhaustion',
  'secret_in_prompt',
  'secret_in_response',
];

/** The rules meant to catch each kind of incident. */
export const EXPECTED_RULES: Record<IncidentKind, readonly string[]> = {
  credential_stuffing: ['auth.repeated-failures'],
  leaked_key: ['key.new-network'],
  runaway_loop: ['volume.spike', 'tokens.spike'],
  error_storm: ['errors.rate'],
  context_leak: ['session.context-growth'],
  budget_exhaustion: ['cost.budget'],
  secret_in_prompt: ['content.secret-in-prompt'],
  secret_in_response: ['content.secret-in-response'],
};

/** One simulated request: the fields detectors read, and its label (incident id, or -1 when benign). */
export interface SimRequest {
  t: number;
  user: string | null;
  key: string | null;
  ip: string;
  session: string | null;
  model: string;
  status: EventStatus;
  auth: AuthResult;
  input: number;
  output: number;
  cost: number | null;
  redactions: RedactionCount[];
  /** Where the redactions were found (the engine hint). */
  part: 'prompt' | 'response';
  incident: number;
}

export interface Incident {
  id: number;
  kind: IncidentKind;
  startMs: number;
}

export interface TrafficOptions {
  seed: number;
  days: number;
  users: number;
  services: number;
  incidentsPerKind: number;
  /** Days of benign-only traffic before incidents may start (baselines warm up). */
  warmupDays: number;
}

export const DEFAULT_TRAFFIC_OPTIONS: TrafficOptions = {
  seed: 42,
  days: 10,
  users: 400,
  services: 20,
  incidentsPerKind: 4,
  warmupDays: 7,
};

export interface Traffic {
  startMs: number;
  endMs: number;
  /** Sorted by time. */
  requests: SimRequest[];
  incidents: Incident[];
  /** Budgets the traffic was generated against (for `cost.budget`). */
  budgets: BudgetRule[];
  /** End of the benign warm-up: incidents start after it, and false alerts are scored after it. */
  scoreFromMs: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 0, 5); // a Monday

/** Micro-USD per token (= USD per million tokens), input and output. */
const PRICES: Record<string, [number, number]> = {
  'gpt-4o-mini': [0.15, 0.6],
  'gpt-4o': [2.5, 10],
  'claude-sonnet': [3, 15],
};
const MODELS = ['gpt-4o-mini', 'gpt-4o-mini', 'gpt-4o-mini', 'gpt-4o', 'gpt-4o', 'claude-sonnet'];
const FAILURES: readonly EventStatus[] = [
  'RATE_LIMITED',
  'RATE_LIMITED',
  'SERVER_ERROR',
  'TIMEOUT',
  'CLIENT_ERROR',
];
const USER_BUDGET_USD = 10;

interface Person {
  id: string;
  key: string;
  office: string;
  home: string | null;
  workStartH: number;
  sessionsPerHour: number;
  errorRate: number;
  ctxCap: number;
  agent: boolean;
  model: string;
}

function cost(model: string, input: number, output: number): number {
  const [pin, pout] = PRICES[model]!;
  return Math.round(input * pin + output * pout);
}

/** Generates the traffic. Deterministic for given options. */
export function generateTraffic(opts: Partial<TrafficOptions> = {}): Traffic {
  const o = { ...DEFAULT_TRAFFIC_OPTIONS, ...opts };
  const rng = new SeededRandom(o.seed);
  const endMs = START + o.days * DAY;
  const out: SimRequest[] = [];
  const usedNets = new Set<string>();
  const freshNet = (): string => {
    for (;;) {
      const n = `${rng.int(11, 199)}.${rng.int(0, 255)}.${rng.int(0, 255)}`;
      if (!usedNets.has(n)) {
        usedNets.add(n);
        return n;
      }
    }
  };
  let sessionSeq = 0;
  const newSession = (prefix: string): string => `${prefix}-${(++sessionSeq).toString(36)}`;

  const req = (r: Partial<SimRequest> & Pick<SimRequest, 't' | 'ip' | 'model'>): SimRequest => {
    const input = r.input ?? 0;
    const output = r.output ?? 0;
    const status = r.status ?? 'SUCCESS';
    const full: SimRequest = {
      user: null,
      key: null,
      session: null,
      auth: 'SUCCESS',
      redactions: [],
      part: 'prompt',
      incident: -1,
      ...r,
      status,
      input,
      output,
      cost: r.cost !== undefined ? r.cost : status === 'SUCCESS' ? cost(r.model, input, output) : null,
    };
    out.push(full);
    return full;
  };

  // ---- people ----------------------------------------------------------------------------
  const offices = Array.from({ length: Math.max(1, Math.ceil(o.users / 12)) }, () => freshNet());
  const people: Person[] = Array.from({ length: o.users }, (_, i) => {
    const agent = rng.chance(0.1);
    return {
      id: `user-${i}`,
      key: `kf_u${i.toString(36)}${rng.int(1000, 9999)}`,
      office: rng.pick(offices),
      home: rng.chance(0.6) ? freshNet() : null,
      workStartH: rng.int(5, 14),
      sessionsPerHour: agent ? rng.range(0.8, 1.6) : rng.range(0.4, 2.5),
      errorRate: rng.range(0.005, 0.03),
      ctxCap: agent ? rng.int(10_000, 14_000) : rng.int(5_000, 11_000),
      agent,
      model: agent ? 'gpt-4o-mini' : rng.pick(MODELS),
    };
  });
  const homeIp = new Map(people.map((p) => [p.id, p.home ? `${p.home}.${rng.int(2, 254)}` : null]));
  const roaming = new Map<string, string>(); // `${user}/${day}` → hotel network
  for (const p of people)
    for (let d = 0; d < o.days; d++) if (rng.chance(0.01)) roaming.set(`${p.id}/${d}`, freshNet());

  const ipFor = (p: Person, t: number): string => {
    const day = Math.floor((t - START) / DAY);
    const hotel = roaming.get(`${p.id}/${day}`);
    if (hotel) return `${hotel}.17`;
    const h = ((t - START) % DAY) / HOUR;
    const atWork = h >= p.workStartH && h < p.workStartH + 9;
    return atWork || !homeIp.get(p.id) ? `${p.office}.1` : homeIp.get(p.id)!;
  };

  /** One chat or agent session; returns when it ends. */
  const session = (p: Person, t0: number): number => {
    const agent = p.agent;
    const id = newSession(agent ? 'agent' : 'chat');
    const turns = agent ? rng.int(15, 40) : 1 + Math.min(24, Math.floor(rng.exp(5)));
    let ctx = agent ? rng.int(2000, 4000) : rng.int(300, 2000);
    let t = t0;
    const ip = ipFor(p, t0);
    const model = agent || rng.chance(0.8) ? p.model : rng.pick(MODELS);
    for (let k = 0; k < turns && t < endMs; k++) {
      const output = rng.int(50, 800);
      const pii = rng.chance(0.03) ? [{ type: rng.pick(['email', 'phone', 'ipv4']), count: 1 }] : [];
      const failed = rng.chance(p.errorRate);
      req({
        t,
        user: p.id,
        key: p.key,
        ip,
        session: id,
        model,
        input: ctx,
        output: failed ? 0 : output,
        redactions: pii,
        status: failed ? rng.pick(FAILURES) : 'SUCCESS',
      });
      if (failed) {
        t += rng.range(2_000, 10_000);
        req({ t, user: p.id, key: p.key, ip, session: id, model, input: ctx, output, redactions: pii });
      }
      ctx += agent ? rng.int(500, 2500) : output + rng.int(50, 600);
      if (ctx > p.ctxCap) ctx = Math.round(p.ctxCap * rng.range(0.4, 0.6)); // the app trims its history
      t += agent ? rng.range(4_000, 12_000) : 15_000 + rng.exp(40_000);
    }
    return t;
  };

  for (const p of people) {
    const dayStart = (t: number) => START + Math.floor((t - START) / DAY) * DAY;
    const rate = (t: number): number => {
      const h = (t - dayStart(t)) / HOUR;
      const inWork = h >= p.workStartH && h < p.workStartH + 9;
      const evening = h >= p.workStartH + 9 && h < p.workStartH + 14;
      return p.sessionsPerHour * (inWork ? 1 : evening ? 0.12 : 0.02);
    };
    const peak = p.sessionsPerHour;
    let t = START + rng.exp(HOUR / peak);
    while (t < endMs) {
      if (rng.next() < rate(t) / peak) {
        const ip = ipFor(p, t);
        if (rng.chance(0.02)) {
          // A mistyped or stale key, then the right one.
          const wrongKey = `kf_typo${rng.int(0, 1e9)}`;
          for (let i = rng.int(1, 3); i > 0; i--) {
            req({ t, user: p.id, key: wrongKey, ip, model: p.model, status: 'AUTH_FAILED', auth: 'FAILED' });
            t += rng.range(5_000, 20_000);
          }
        }
        if (rng.chance(0.05)) {
          // A normal burst: a quick script over a handful of items.
          for (let i = rng.int(5, 15); i > 0; i--) {
            req({
              t,
              user: p.id,
              key: p.key,
              ip,
              model: 'gpt-4o-mini',
              input: rng.int(400, 1500),
              output: rng.int(20, 200),
            });
            t += rng.range(1_000, 4_000);
          }
        }
        t = session(p, t);
      }
      t += rng.exp(HOUR / peak);
    }
  }

  // ---- services ---------------------------------------------------------------------------
  for (let s = 0; s < o.services; s++) {
    const key = `kf_svc${s}${rng.int(1000, 9999)}`;
    const nets = [freshNet(), freshNet()];
    const base = rng.range(0.01, 0.12); // requests per second at the daily peak
    const model = rng.pick(MODELS);
    const errorRate = rng.range(0.003, 0.02);
    const shift = rng.range(-3, 3);
    const rhythm = (t: number): number => {
      const h = (((t - START) % DAY) / HOUR + shift + 24) % 24;
      return 0.3 + 0.7 * Math.max(0, Math.sin((Math.PI * (h - 6)) / 14));
    };
    let t = START + rng.exp(1000 / base);
    while (t < endMs) {
      if (rng.next() < rhythm(t)) {
        const failed = rng.chance(errorRate);
        req({
          t,
          key,
          ip: `${rng.pick(nets)}.${rng.int(10, 40)}`,
          model,
          input: rng.int(500, 4000),
          output: failed ? 0 : rng.int(100, 600),
          status: failed ? rng.pick(FAILURES) : 'SUCCESS',
        });
      }
      t += rng.exp(1000 / base);
    }
    if (s === 0) {
      // A forgotten cron job still using the rotated key, every ten minutes all day.
      const ip = `${nets[0]}.99`;
      for (let c = START + 5 * 60_000; c < endMs; c += 10 * 60_000) {
        req({ t: c, key: `${key}_old`, ip, model, status: 'AUTH_FAILED', auth: 'REVOKED' });
      }
    }
  }

  // ---- incidents --------------------------------------------------------------------------
  const incidents: Incident[] = [];
  const humans = people.filter((p) => !p.agent);
  const victims = [...humans];
  const takeVictim = (): Person => victims.splice(rng.int(0, victims.length - 1), 1)[0]!;
  const firstAt = START + o.warmupDays * DAY + HOUR;
  for (const kind of INCIDENT_KINDS) {
    for (let n = 0; n < o.incidentsPerKind; n++) {
      const id = incidents.length;
      let t = rng.range(firstAt, endMs - 2 * HOUR);
      incidents.push({ id, kind, startMs: t });
      const v = takeVictim();
      switch (kind) {
        case 'credential_stuffing': {
          const ip = `${freshNet()}.${rng.int(2, 254)}`;
          for (let i = rng.int(30, 150); i > 0; i--) {
            req({
              t,
              key: `kf_guess${rng.int(0, 1e9)}`,
              ip,
              model: 'gpt-4o',
              status: 'AUTH_FAILED',
              auth: 'FAILED',
              incident: id,
            });
            t += rng.range(250, 1_000);
          }
          break;
        }
        case 'leaked_key': {
          const ip = `${freshNet()}.${rng.int(2, 254)}`;
          for (let i = rng.int(20, 60); i > 0; i--) {
            req({
              t,
              key: v.key,
              ip,
              model: 'gpt-4o',
              input: rng.int(500, 3000),
              output: rng.int(100, 800),
              incident: id,
            });
            t += rng.range(20_000, 60_000);
          }
          break;
        }
        case 'runaway_loop': {
          const sid = newSession('loop');
          const perSecond = rng.range(1, 3);
          const input = rng.int(2000, 4000);
          const end = t + rng.range(5, 15) * 60_000;
          for (; t < end; t += rng.exp(1000 / perSecond)) {
            req({
              t,
              user: v.id,
              key: v.key,
              ip: ipFor(v, t),
              session: sid,
              model: v.model,
              input: input + rng.int(-200, 200),
              output: rng.int(200, 500),
              incident: id,
            });
          }
          break;
        }
        case 'error_storm': {
          const ip = ipFor(v, t);
          const perSecond = rng.range(0.5, 1);
          const end = t + rng.range(5, 10) * 60_000;
          for (; t < end; t += rng.exp(1000 / perSecond)) {
            const failed = rng.chance(0.75);
            req({
              t,
              user: v.id,
              key: v.key,
              ip,
              model: v.model,
              input: rng.int(500, 2000),
              output: failed ? 0 : 200,
              status: failed ? rng.pick(['CLIENT_ERROR', 'SERVER_ERROR'] as const) : 'SUCCESS',
              incident: id,
            });
          }
          break;
        }
        case 'context_leak': {
          const sid = newSession('leak');
          const ip = ipFor(v, t);
          let input = rng.int(3000, 5000);
          for (let i = rng.int(30, 60); i > 0 && input < 128_000; i--) {
            req({
              t,
              user: v.id,
              key: v.key,
              ip,
              session: sid,
              model: 'gpt-4o-mini',
              input,
              output: rng.int(200, 600),
              incident: id,
            });
            input += rng.int(1500, 4000);
            t += rng.range(2_000, 5_000);
          }
          break;
        }
        case 'budget_exhaustion': {
          const ip = ipFor(v, t);
          const perSecond = rng.range(0.4, 1);
          let spent = 0;
          while (spent < USER_BUDGET_USD * 1.2e6) {
            const r = req({
              t,
              user: v.id,
              key: v.key,
              ip,
              model: 'gpt-4o',
              input: rng.int(20_000, 40_000),
              output: rng.int(500, 2000),
              incident: id,
            });
            spent += r.cost ?? 0;
            t += rng.exp(1000 / perSecond);
          }
          break;
        }
        case 'secret_in_prompt':
        case 'secret_in_response': {
          const type = rng.pick([
            'aws_access_key',
            'github_token',
            'openai_key',
            'private_key',
            'db_password',
          ]);
          const part = kind === 'secret_in_prompt' ? 'prompt' : 'response';
          req({
            t,
            user: v.id,
            key: v.key,
            ip: ipFor(v, t),
            session: newSession('chat'),
            model: v.model,
            input: rng.int(500, 3000),
            output: rng.int(100, 600),
            redactions: [{ type, count: 1 }],
            part,
            incident: id,
          });
          break;
        }
      }
    }
  }

  out.sort((a, b) => a.t - b.t);
  return {
    startMs: START,
    endMs,
    requests: out.filter((r) => r.t < endMs),
    incidents,
    budgets: [{ scope: 'user', subject: '*', period: 'day', limit_usd: USER_BUDGET_USD }],
    scoreFromMs: START + o.warmupDays * DAY,
  };
}
