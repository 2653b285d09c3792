/** The doctor's result types (`tollgate doctor`, `--json` prints a DoctorReport). */

export type FindingLevel = 'ok' | 'warn' | 'fail';

/** One check's outcome: what was found, and what to do about it. Never contains the raw key. */
export interface DoctorFinding {
  /** Stable id for scripts: `key.whitespace`, `url.path`, `net.tls`, `http.models`, … */
  id: string;
  level: FindingLevel;
  title: string;
  detail: string;
  /** How to fix it; null for an `ok` finding. */
  fix: string | null;
}

export interface DoctorReport {
  /** True when no finding is `fail`: the CLI exits 0, else 1. */
  healthy: boolean;
  /** The base URL checked, without credentials, query or fragment. */
  upstreamUrl: string;
  /** The provider id inferred from the host (or given), null when unknown. */
  provider: string | null;
  /** At most 8 characters of the key (see keyPrefix). */
  keyPrefix: string;
  findings: DoctorFinding[];
}

/** Shorthand constructors keep the check code readable. */
export const ok = (id: string, title: string, detail = ''): DoctorFinding => ({
  id,
  level: 'ok',
  title,
  detail,
  fix: null,
});
export const warn = (id: string, title: string, detail: string, fix: string): DoctorFinding => ({
  id,
  level: 'warn',
  title,
  detail,
  fix,
});
export const fail = (id: string, title: string, detail: string, fix: string): DoctorFinding => ({
  id,
  level: 'fail',
  title,
  detail,
  fix,
});
