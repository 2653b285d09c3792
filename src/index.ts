/**
 * `tollgate`: the gateway as a library. Start it from configuration (what `tollgate serve` does),
 * read and verify its store, and use its error catalog and event types. Apps that call providers
 * directly use `tollgate/sdk` instead. See README.md and docs/.
 */
export { startTollgate, type RunningTollgate, type StartOptions } from './app/start-tollgate.js';
export { createLogger, type Logger } from './app/logger.js';
export { DEFAULT_CONFIG, ENV_VARS, loadConfig, type TollgateConfig } from './config/config.js';
export { configSchema } from './config/config-schema.js';
export { ERROR_CATALOG, TollgateError, isTollgateError, type ErrorCode } from './core/errors.js';
export {
  AUDIT_EVENT_FIELDS,
  EVENT_STATUSES,
  SCHEMA_VERSION,
  type AuditEvent,
  type AuditEventField,
  type AuthResult,
  type ContentMode,
  type EventSource,
  type EventStatus,
  type RedactionCount,
  type UsageSource,
} from './core/audit-event.js';
export { ManualClock, systemClock, type Clock } from './core/clock.js';
export { createRedactor, type RedactorDeps, type TollgateRedactor } from './redaction/redactor.js';
export type { ContentPolicy, ContentPolicyOverride } from './redaction/content-policy.js';
export { defaultCatalogPath, loadPriceCatalog, type PriceCatalog } from './pricing/catalog.js';
export { isPostgresUrl, openEventStore, type OpenedEventStore } from './store/open-event-store.js';
export type { ChainHead, EventFilter, EventStore } from './store/event-store.js';
export {
  verifyChains,
  type ChainVerifyReport,
  type Damage,
  type VerifyOptions,
  type VerifyReport,
} from './integrity/verify.js';
