import type { AuditEvent } from '../../src/core/audit-event.js';
import { blankEvent } from '../../src/core/audit-event.js';

/** A realistic, fully populated event (stored form: redacted content), deterministic in `i`. */
export function sampleEvent(i: number, baseMs = Date.UTC(2026, 0, 1)): AuditEvent {
  const e = blankEvent({
    id: `0194b2c0-0000-7000-8000-${i.toString(16).padStart(12, '0')}`,
    timestamp: new Date(baseMs + i * 250).toISOString(),
    source: i % 5 === 0 ? 'sdk' : 'gateway',
  });
  e.request_id = `req_${i}`;
  e.trace_id = (i * 7919).toString(16).padStart(32, '0');
  e.span_id = (i * 104729).toString(16).padStart(16, '0');
  e.instance_id = 'gw-1';
  e.ip_address = `10.0.${i % 256}.${(i * 3) % 256}`;
  e.user_agent = 'OpenAI/JS 6.49.0';
  e.api_provider = 'openai';
  e.endpoint = '/chat/completions';
  e.http_method = 'POST';
  e.model_requested = i % 3 === 0 ? 'gpt-4o-mini' : 'gpt-4.1';
  e.model_used = e.model_requested;
  e.stream = i % 2 === 0;
  e.auth_method = 'bearer';
  e.auth_result = 'SUCCESS';
  e.api_key_id = `kf_${(i % 17).toString(36)}`;
  e.api_key_prefix = 'sk-proj-';
  e.input_tokens = 100 + (i % 900);
  e.output_tokens = 20 + (i % 300);
  e.total_tokens = e.input_tokens + e.output_tokens;
  e.usage_source = 'reported';
  e.latency_ms = 120.5 + (i % 1000) / 4;
  e.time_to_first_token_ms = 80 + (i % 50);
  e.upstream_latency_ms = 110.25;
  e.status = i % 11 === 0 ? 'RATE_LIMITED' : 'SUCCESS';
  e.http_status_code = i % 11 === 0 ? 429 : 200;
  e.finish_reason = 'stop';
  e.user_id = `user-${i % 40}`;
  e.session_id = `sess-${Math.floor(i / 10)}`;
  e.feature_name = 'support-bot';
  e.team = 'cx';
  e.cost_micro_usd = 1250 + i;
  e.pricing_version = '2026-01';
  e.content_mode = 'redacted';
  e.prompt = `Summarise ticket ${i} for [EMAIL] — «quoted» \u00e9\u{1F600} text`;
  e.response = `Ticket ${i} is about a refund; customer [PHONE] asked twice.`;
  e.redactions = [
    { type: 'email', count: 1 },
    { type: 'phone', count: i % 3 },
  ];
  e.threat_indicators = i % 13 === 0 ? ['prompt-injection.ignore-previous'] : [];
  return e;
}
