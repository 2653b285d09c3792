/**
 * Loading of the optional peer dependencies (package.json `peerDependenciesMeta`): the PostgreSQL
 * driver, Redis, OpenTelemetry. An app that never chooses the feature never installs the package;
 * one that chooses it without the package gets TG_ERR_DEPENDENCY_MISSING naming what to install,
 * not Node's ERR_MODULE_NOT_FOUND from deep inside a store module.
 */
import { TollgateError } from './errors.js';

/** What a feature needs: the packages to name in the error. */
export interface OptionalFeature {
  /** Shown in the error (`PostgreSQL store`). */
  feature: string;
  /** Every package the feature loads, e.g. `['pg', 'pg-copy-streams']`. */
  packages: readonly string[];
}

/** The package whose absence `err` reports, when it is one of `packages`. */
export function missingPackage(err: unknown, packages: readonly string[]): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return null;
  const message = err instanceof Error ? err.message : '';
  // Node names the missing specifier in quotes: "Cannot find package 'pg' imported from …".
  return packages.find((p) => message.includes(`'${p}'`) || message.includes(`'${p}/`)) ?? null;
}

/**
 * Runs `load` (a dynamic import of the module that uses the feature's packages); a missing package
 * becomes TG_ERR_DEPENDENCY_MISSING with `package`, `feature` and the install command.
 */
export async function loadOptional<T>(need: OptionalFeature, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const pkg = missingPackage(err, need.packages);
    if (pkg === null) throw err;
    throw new TollgateError(
      'TG_ERR_DEPENDENCY_MISSING',
      { package: pkg, feature: need.feature, install: `npm install ${need.packages.join(' ')}` },
      { cause: err },
    );
  }
}

/** The PostgreSQL store's driver. */
export const POSTGRES_PACKAGES: OptionalFeature = {
  feature: 'PostgreSQL store',
  packages: ['pg', 'pg-copy-streams'],
};

/** Shared state of replicas (rate limits, budgets, detector windows). */
export const REDIS_PACKAGES: OptionalFeature = { feature: 'Redis shared state', packages: ['ioredis'] };

/** OTLP export of traces and metrics. */
export const OTEL_PACKAGES: OptionalFeature = {
  feature: 'OpenTelemetry export',
  packages: [
    '@opentelemetry/api',
    '@opentelemetry/exporter-metrics-otlp-proto',
    '@opentelemetry/exporter-trace-otlp-proto',
    '@opentelemetry/otlp-exporter-base',
    '@opentelemetry/otlp-transformer',
    '@opentelemetry/resources',
    '@opentelemetry/sdk-metrics',
    '@opentelemetry/sdk-trace-base',
    '@opentelemetry/semantic-conventions',
  ],
};
