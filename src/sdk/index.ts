/**
 * `tollgate/sdk`: the gateway's audit trail in-process, for apps that call providers directly.
 * See docs/sdk.md. The SQLite store is loaded only when chosen.
 */
export { Auditor, createAuditor, type AuditorOptions, type AuditorStats } from './auditor.js';
export { createAuditedFetch, type AuditedFetchOptions, type FetchFunction } from './audited-fetch.js';
export { endpointOf } from '../providers/registry.js';
export { wrapOpenAI, type OpenAILikeClient } from './wrap-openai.js';
export { wrapAnthropic, type AnthropicLikeClient } from './wrap-anthropic.js';
export type { TrackMeta, TrackedCall } from './tracked-call.js';
export { attributionHeaders, type AttributionInput } from './audit-context.js';
export { sdkInstanceId } from './sdk-instance-id.js';
export { openSdkStore, type SdkStoreChoice } from './sdk-store.js';
export { JsonlEventStore } from './jsonl-event-store.js';
export { HttpEventSink, type HttpEventSinkOptions } from './http-event-sink.js';
export { createIngestRoute, type IngestRouteOptions } from '../proxy/ingest-route.js';
export { MemoryEventStore } from '../store/memory/memory-event-store.js';
export type { AuditEvent } from '../core/audit-event.js';
export type { EventStore } from '../store/event-store.js';
export type { ProviderUsage } from '../capture/usage.js';
export type { UpstreamPolicy } from '../upstream/upstream-policy.js';
export { TollgateError, isTollgateError } from '../core/errors.js';
