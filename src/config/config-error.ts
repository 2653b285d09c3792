/**
 * Turns the schema's complaint into one TG_ERR_CONFIG_INVALID that names the key by its full path,
 * says what was wrong, where the value came from and, for an unknown key, the nearest valid one.
 * The value itself is never repeated: it may be a key or a secret put in the wrong place.
 */
import { distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { TollgateError } from '../core/errors.js';
import { CONFIG_FIELDS, sectionAt } from './config-fields.js';

/** Dotted path → where its value came from (`TOLLGATE_PORT`, `flag`); the rest came from the file. */
export type SettingOrigins = ReadonlyMap<string, string>;

/**
 * The valid key nearest to `key` among `candidates`, or null when none is near: a candidate that
 * starts with it (`upstream` → `upstream_url`), else the closest by edit distance within a third
 * of its length, a shared beginning counting in its favour (`retries` → `retry`, not `metrics`).
 */
export function nearestKey(key: string, candidates: readonly string[]): string | null {
  const k = key.toLowerCase();
  const prefixed = candidates.filter((c) => k.length >= 3 && c.toLowerCase().startsWith(k));
  if (prefixed.length > 0) return prefixed.reduce((a, b) => (b.length < a.length ? b : a));
  const limit = Math.max(2, Math.ceil(k.length / 3));
  let best: string | null = null;
  let bestScore = Infinity;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    const d = distance(k, lc);
    if (d > limit) continue;
    let common = 0;
    while (common < 4 && common < lc.length && lc[common] === k[common]) common++;
    const score = d - common / 2;
    if (score < bestScore) [best, bestScore] = [c, score];
  }
  return best;
}

/**
 * A union that failed (a detection rule is `false` or a mapping): the issues of the branch that
 * got furthest, under the union's path, so a bad threshold is named rather than the whole rule.
 */
function flatten(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
    const deepest = issue.errors.reduce((a, b) =>
      Math.max(0, ...b.map((i) => i.path.length + Number(i.code === 'unrecognized_keys'))) >
      Math.max(0, ...a.map((i) => i.path.length + Number(i.code === 'unrecognized_keys')))
        ? b
        : a,
    );
    const inner = deepest.map((i) => ({ ...i, path: [...issue.path, ...i.path] }));
    return inner.some((i) => i.path.length > issue.path.length || i.code === 'unrecognized_keys')
      ? flatten(inner)
      : [issue];
  });
}

/** A key valid elsewhere in the config under the same name (`max_retries` at the top → `retry.max_retries`). */
function sameNameElsewhere(key: string): string | null {
  const hit = CONFIG_FIELDS.find((f) => f.path[f.path.length - 1] === key);
  return hit ? hit.path.join('.') : null;
}

function problemOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return 'unknown key';
    case 'invalid_type':
      return issue.input === undefined ? 'required' : `expected ${issue.expected}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      return `must be ${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}`;
    case 'too_big':
      return `must be ${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}`;
    case 'invalid_union':
      return 'expected false or a mapping';
    default:
      return issue.message;
  }
}

function originOf(path: readonly PropertyKey[], origins: SettingOrigins, file: string | null): string | null {
  for (let n = path.length; n > 0; n--) {
    const o = origins.get(path.slice(0, n).map(String).join('.'));
    if (o) return o;
  }
  return file;
}

/**
 * The error for the first issue (unknown keys first: a misspelt key explains the rest), with
 * `more` counting the others.
 */
export function configInvalid(
  issues: readonly z.core.$ZodIssue[],
  origins: SettingOrigins,
  file: string | null,
): TollgateError {
  const ordered = flatten(issues).sort(
    (a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'),
  );
  const issue = ordered[0]!;
  const detail: Record<string, string | number> = {};
  let where: readonly PropertyKey[] = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    where = [...issue.path, key];
    detail.field = [...issue.path, key].map(String).join('.');
    detail.problem = 'unknown key';
    const siblings = sectionAt(issue.path)?.keys ?? [];
    const near = nearestKey(key, siblings);
    const hint = near ? [...issue.path.map(String), near].join('.') : sameNameElsewhere(key);
    if (hint) detail.did_you_mean = hint;
  } else {
    detail.field = issue.path.map(String).join('.') || '(top level)';
    detail.problem = problemOf(issue);
  }
  const from = originOf(where, origins, file);
  if (from) detail.from = from;
  const more = ordered.length - 1 + (issue.code === 'unrecognized_keys' ? issue.keys.length - 1 : 0);
  if (more > 0) detail.more = more;
  return new TollgateError('TG_ERR_CONFIG_INVALID', detail);
}
