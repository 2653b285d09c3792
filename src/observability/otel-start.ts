import type { Lifetime } from '../core/lifetime.js';
import type { Log } from '../core/log.js';
import { loadOptional, OTEL_PACKAGES } from '../core/optional-dependency.js';
import type { OtelConfig, OtelExport } from './otel.js';

/**
 * Starts OTLP export of traces and metrics when configured (null otherwise), shut down with
 * `life`. The OpenTelemetry SDK loads only then: it costs ~20 MB of memory at import, which a
 * gateway without a collector should not carry.
 */
export async function startOtelExport(
  config: OtelConfig | undefined,
  deps: { upstreamUrl: string; instanceId: string; log: Log; modelName?: (model: string) => string | null },
  life: Lifetime,
): Promise<OtelExport | null> {
  if (!config) return null;
  // The OpenTelemetry packages are optional peers: a missing one is named (TG_ERR_DEPENDENCY_MISSING).
  const { createOtelExport } = await loadOptional(OTEL_PACKAGES, () => import('./otel.js'));
  const otel = createOtelExport({
    upstreamUrl: deps.upstreamUrl,
    instanceId: deps.instanceId,
    ...(deps.modelName ? { modelName: deps.modelName } : {}),
    ...config,
    onError: (err) => deps.log.warn({ err }, 'OTLP export failed'),
  });
  return life.own('otel export', otel, (e) => e.shutdown());
}
