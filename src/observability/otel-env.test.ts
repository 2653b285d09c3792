import { describe, expect, it } from 'vitest';
import { otelConfigFromEnv, unknownTraceSampler } from './otel-env.js';

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

describe('OTLP settings from the environment', () => {
  it('is off without an endpoint, and with OTEL_SDK_DISABLED', () => {
    expect(otelConfigFromEnv({})).toBeNull();
    expect(otelConfigFromEnv({ ...ENDPOINT, OTEL_SDK_DISABLED: 'true' })).toBeNull();
  });

  it('reads the trace sampler (default: every trace, a caller’s unsampled trace excepted)', () => {
    expect(otelConfigFromEnv(ENDPOINT)!.sampling).toEqual({ ratio: 1, parentBased: true });
    expect(
      otelConfigFromEnv({
        ...ENDPOINT,
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
      })!.sampling,
    ).toEqual({ ratio: 0.1, parentBased: true });
  });

  it('names a sampler it does not know (serve warns) and keeps the default', () => {
    const env = { ...ENDPOINT, OTEL_TRACES_SAMPLER: 'jaeger_remote' };
    expect(otelConfigFromEnv(env)!.sampling).toBeUndefined();
    expect(unknownTraceSampler(env)).toBe('jaeger_remote');
    expect(unknownTraceSampler({ OTEL_TRACES_SAMPLER: 'always_off' })).toBeNull();
  });

  it('reads headers, skipping a malformed pair without echoing it', () => {
    const c = otelConfigFromEnv({ ...ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%20d,%E0%A4%A=x' })!;
    expect(c.headers).toEqual({ 'api-key': 'abc d' });
  });
});
