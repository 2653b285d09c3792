/**
 * The traffic mix of the at-scale benches (dashboard.bench.ts on SQLite, postgres-scale.bench.ts
 * on PostgreSQL): the same models and features, so their pages read comparable stores, and the
 * load average they print with every figure.
 */
import { loadavg } from 'node:os';

export const SCALE_MODELS = [
  'gpt-4.1-2025-04-14',
  'gpt-4.1-mini-2025-04-14',
  'gpt-4o-mini',
  'text-embedding-3-small',
  'o3',
] as const;

export const SCALE_FEATURES = [
  'chat',
  'search',
  'summarize',
  'support-bot',
  'agent',
  'translate',
  'code-review',
  'reports',
] as const;

/** `1.2 / 0.9 / 0.7`: the 1, 5 and 15 minute load averages. */
export const loadAverages = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ');
