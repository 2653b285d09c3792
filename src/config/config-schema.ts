/**
 * The one definition of what `tollgate.config.yaml`, the `TOLLGATE_*` variables and the flags may
 * set: each key's type, default, environment variable and one-line doc. The config type, the
 * defaults, the env mapping and docs/configuration.md are all derived from it (see config.ts,
 * config-fields.ts, configuration-doc.ts). Every object is strict: an unknown key is an error,
 * never a silently ignored setting (`failure_polcy: fail-closed` must not run fail-open).
 *
 * To add a key: add it here with `setting(...)` (building blocks in setting-schema.ts) (and `env` when a variable should set it), then
 * run `npm run docs:config`.
 */
import { z } from 'zod';
import {
  budgetSchema,
  contentModes,
  contentOverride,
  detectionSchema,
  detectorSwitches,
  limitSchema,
  providerSchema,
} from './section-schemas.js';
import { presetByName } from '../providers/registry.js';
import {
  durationMs,
  failurePolicy,
  httpUrl,
  nonNegative,
  positive,
  positiveInt,
  section,
  setting,
} from './setting-schema.js';

export type { SettingMeta } from './setting-schema.js';

/** Everything `tollgate serve` can be told; file < env < flags. Names in the file are snake_case. */
export const configSchema = z
  .strictObject({
    host: setting(z.string().min(1).default('127.0.0.1'), {
      description: 'Address to bind (loopback by default: DESIGN.md "Defaults that protect people")',
      env: 'TOLLGATE_HOST',
    }),
    port: setting(z.number().int().min(0).max(65535).default(8787), {
      description: 'Port to listen on (0 picks a free one)',
      env: 'TOLLGATE_PORT',
    }),
    upstream_url: setting(
      z
        .string()
        // A preset name (`deepseek`, `groq`, `ollama`, …) stands for its base URL.
        .transform((v) => presetByName(v)?.baseUrl ?? v)
        .pipe(httpUrl)
        .default('https://api.openai.com/v1'),
      {
        description:
          'The provider base URL requests are forwarded to, or a preset name (openai, azure, deepseek, openrouter, groq, together, mistral, xai, perplexity, ollama, vllm)',
        env: 'TOLLGATE_UPSTREAM_URL',
      },
    ),
    providers: setting(z.array(providerSchema).default([]), {
      description:
        'Several providers behind one gateway: a list of `{name, api: openai|anthropic|gemini|ollama, base_url, models: [patterns], fallback: [names], key_file}`, routed by model pattern, else by path (docs/providers.md); replaces upstream_url',
    }),
    provider: setting(z.string().min(1).nullable().default(null), {
      description: 'Recorded as `api_provider`; inferred from the upstream host when not set',
      env: 'TOLLGATE_PROVIDER',
    }),
    db: setting(z.string().min(1).default('./data/tollgate.db'), {
      description: 'The store: a SQLite file or a `postgres://` URL',
      env: 'TOLLGATE_DB',
    }),
    data_dir: setting(z.string().min(1).nullable().default(null), {
      description:
        "Where local secrets and the spool live (fingerprint secret, admin token); default: the db's folder",
      env: 'TOLLGATE_DATA_DIR',
    }),
    failure_policy: setting(failurePolicy.default('fail-open'), {
      description:
        'When the audit trail cannot be written: `fail-open` spools and records the gap, `fail-closed` refuses (503)',
      env: 'TOLLGATE_FAILURE_POLICY',
    }),
    body_limit_bytes: setting(positive().default(16 * 1024 * 1024), {
      description: 'Largest request body accepted (413 above)',
      env: 'TOLLGATE_BODY_LIMIT_BYTES',
    }),
    trust_proxy: setting(z.boolean().default(false), {
      description: 'Take the client address from X-Forwarded-For (only behind a proxy you run)',
      env: 'TOLLGATE_TRUST_PROXY',
    }),
    instance_id: setting(z.string().min(1).nullable().default(null), {
      description: "This replica's name (its hash chain); default: generated once into the data folder",
      env: 'TOLLGATE_INSTANCE_ID',
    }),
    timeouts: section(
      {
        connect_ms: setting(nonNegative().default(5_000), { description: 'Upstream connect timeout' }),
        first_byte_ms: setting(nonNegative().default(60_000), { description: 'Upstream time to first byte' }),
        idle_ms: setting(nonNegative().default(30_000), { description: 'Longest silence inside a stream' }),
        total_ms: setting(nonNegative().default(600_000), { description: 'Whole exchange' }),
      },
      'Upstream timeouts',
    ),
    retry: section(
      {
        max_retries: setting(nonNegative().default(2), {
          description: 'Retries of a failed upstream attempt',
        }),
        base_delay_ms: setting(nonNegative().default(250), { description: 'First backoff delay' }),
        max_delay_ms: setting(nonNegative().default(8_000), { description: 'Longest backoff delay' }),
        max_retry_after_ms: setting(nonNegative().default(20_000), {
          description: 'Longest upstream Retry-After honoured',
        }),
      },
      'Upstream retries',
    ),
    writer: section(
      {
        max_queue: setting(nonNegative().default(50_000), {
          description: 'Events queued for the store at most',
        }),
        batch_size: setting(positiveInt().nullable().default(null), {
          description: 'Events per store transaction; null: 512 on SQLite, 2048 on PostgreSQL',
        }),
        flush_delay_ms: setting(nonNegative().default(10), { description: 'Longest wait to fill a batch' }),
        flush_events: setting(positiveInt().nullable().default(null), {
          description: 'Flush once this many events wait, before flush_delay_ms is out; null: the batch size',
        }),
        thread: setting(z.boolean().default(false), {
          description:
            'SQLite: commit batches from a worker thread, off the event loop (more CPU and memory; docs/reliability.md)',
        }),
        checkpoint_thread: setting(z.boolean().default(false), {
          description:
            'SQLite: copy the WAL back into the database file (checkpoints) from a worker thread, not in a commit on the event loop (~9 MB more memory; docs/reliability.md)',
        }),
      },
      'The audit writer',
    ),
    spool: section(
      {
        max_bytes: setting(nonNegative().default(256 * 1024 * 1024), {
          description: 'Disk spool size while the store is down (fail-open)',
        }),
      },
      'The fail-open spool',
    ),
    content: section(
      {
        mode: setting(contentModes.default('redacted'), {
          description: 'What of prompts and responses is stored (docs/privacy.md)',
          env: 'TOLLGATE_CONTENT_MODE',
        }),
        detectors: detectorSwitches,
        phone_default_country: setting(
          z
            .string()
            .regex(/^[A-Z]{2}$/, { message: 'must be an ISO 3166-1 alpha-2 code (US, DE, …)' })
            .default('US'),
          { description: 'Region for phone numbers written without +country code' },
        ),
        per_feature: setting(z.record(z.string(), contentOverride).default({}), {
          description: 'By `feature_name`: `{mode, detectors}` overrides',
        }),
        per_key: setting(z.record(z.string(), contentOverride).default({}), {
          description:
            'By virtual key id (or `api_key_id`): `{mode, detectors}` overrides; wins over `per_feature`',
        }),
        master_key_file: setting(z.string().min(1).nullable().default(null), {
          description: 'Encrypted mode: a file holding the 32-byte master key (base64 or hex)',
          env: 'TOLLGATE_MASTER_KEY_FILE',
        }),
        master_key: setting(z.string().min(1).nullable().default(null), {
          description: 'Encrypted mode: the master key itself (base64)',
          env: 'TOLLGATE_MASTER_KEY',
        }),
      },
      'Content policy',
    ),
    prices: section(
      {
        override_path: setting(z.string().min(1).nullable().default(null), {
          description: 'A price file merged over the shipped catalog (docs/cost.md)',
        }),
      },
      'The price catalog',
    ),
    mode: setting(z.enum(['passthrough', 'managed']).default('passthrough'), {
      description:
        "`passthrough`: the client's provider key goes upstream; `managed`: clients use gateway-issued keys",
      env: 'TOLLGATE_MODE',
    }),
    managed: section(
      {
        provider_key_file: setting(z.string().min(1).nullable().default(null), {
          description:
            'Managed mode: a file holding the provider key (never the database); not needed when every entry of `providers` has its own `key_file`',
          env: 'TOLLGATE_PROVIDER_KEY_FILE',
        }),
        provider_key: setting(z.string().min(1).nullable().default(null), {
          description: 'Managed mode: the provider key itself',
          env: 'TOLLGATE_PROVIDER_KEY',
        }),
      },
      'Managed mode',
    ),
    lockout: section(
      {
        max_failures: setting(nonNegative().default(10), {
          description: 'Failed authentications from one address before it is locked out',
        }),
        window_ms: setting(nonNegative().default(300_000), {
          description: 'Window the failures are counted in',
        }),
        cool_off_ms: setting(nonNegative().default(900_000), { description: 'How long a lockout lasts' }),
      },
      'Lockout after repeated authentication failures',
    ),
    redis_url: setting(
      z
        .string()
        .regex(/^rediss?:\/\//, { message: 'must be a redis:// or rediss:// URL' })
        .nullable()
        .default(null),
      {
        description:
          'Shared state of N replicas (rate limits, budgets); null keeps it in process (one replica)',
        env: 'TOLLGATE_REDIS_URL',
      },
    ),
    redis_failure_policy: setting(failurePolicy.default('fail-open'), {
      description: 'When Redis does not answer: `fail-open` admits and alerts, `fail-closed` refuses (429)',
      env: 'TOLLGATE_REDIS_FAILURE_POLICY',
    }),
    admin_token: setting(z.string().min(1).nullable().default(null), {
      description:
        'Admin API and dashboard token; default: generated on first run into the data folder (0600)',
      env: 'TOLLGATE_ADMIN_TOKEN',
    }),
    budgets: setting(z.array(budgetSchema).default([]), {
      description:
        'Spend budgets: a list of `{scope: key|user|feature|team, subject, period: day|month, limit_usd, enforce}`',
    }),
    limits: setting(z.array(limitSchema).default([]), {
      description:
        'Rate limits per key, user, feature or team: a list of `{scope, subject, rpm?, tpm?, concurrent?}` (docs/access-control.md)',
    }),
    detection: detectionSchema,
    alerts: section(
      {
        webhook_url: setting(httpUrl.nullable().default(null), {
          description: 'Generic webhook: JSON body signed with HMAC-SHA256 in `x-tollgate-signature`',
          env: 'TOLLGATE_ALERT_WEBHOOK_URL',
        }),
        webhook_secret: setting(z.string().min(1).nullable().default(null), {
          description: 'The webhook signing secret (required with `webhook_url`)',
          env: 'TOLLGATE_ALERT_WEBHOOK_SECRET',
        }),
        slack_url: setting(httpUrl.nullable().default(null), {
          description: 'Slack-compatible incoming webhook',
          env: 'TOLLGATE_ALERT_SLACK_URL',
        }),
      },
      'Alert delivery',
    ),
    checkpoints: section(
      {
        every_events: setting(positive().default(1000), { description: 'Sign a checkpoint every N events' }),
        every_ms: setting(positive().default(60_000), { description: '…or at least this often' }),
        witness_file: setting(z.string().min(1).nullable().default(null), {
          description: 'An append-only file that receives every checkpoint',
        }),
        witness_url: setting(httpUrl.nullable().default(null), {
          description: 'A URL that receives every checkpoint (webhook anchor: the note POSTed as text/plain)',
        }),
        anchors: setting(z.boolean().default(true), {
          description:
            'Anchor every checkpoint outside the store: an anchor file in `anchor_dir` and a structured log line (docs/integrity.md "Anchors")',
        }),
        anchor_dir: setting(z.string().min(1).nullable().default(null), {
          description: 'The anchor folder (created 0700); null: `tollgate-anchors` beside the data folder',
          env: 'TOLLGATE_ANCHOR_DIR',
        }),
        signing_key_file: setting(z.string().min(1).nullable().default(null), {
          description:
            'The checkpoint signing key file, outside the data folder (created 0600 on first start; refused when group or others can read it)',
          env: 'TOLLGATE_SIGNING_KEY_FILE',
        }),
        signing_key: setting(z.string().min(1).nullable().default(null), {
          description: 'The checkpoint signing key itself (`PRIVATE+KEY+…`); set it through the variable',
          env: 'TOLLGATE_SIGNING_KEY',
        }),
        signing_key_command: setting(z.string().min(1).nullable().default(null), {
          description:
            'A command that prints the checkpoint signing key (a secrets manager; run with /bin/sh -c, 10 s timeout)',
        }),
        max_age_ms: setting(durationMs().nullable().default(null), {
          description:
            "`tollgate verify` fails when a chain's newest checkpoint is older (`2h`, `1d`, or ms); null: the age is only reported",
        }),
        self_check_ms: setting(durationMs().nullable().default(3_600_000), {
          description:
            'The gateway verifies its store this often (`1h`, or ms), incrementally: only the events after the last checkpoint found intact (`verify --since-checkpoint`); damage is logged as an error; null: off',
        }),
      },
      'Signed checkpoints (docs/integrity.md)',
    ),
    retention: section(
      {
        events: setting(durationMs().nullable().default(null), {
          description:
            'Delete events older than this (`400d`), as signed prune records in the chain; held events are kept; null: keep forever (docs/privacy.md "Retention")',
          env: 'TOLLGATE_RETENTION_EVENTS',
        }),
        content: setting(durationMs().nullable().default(null), {
          description:
            'Replace prompt and response older than this (`30d`) by their digest, keeping the event; null: keep content as long as the event',
          env: 'TOLLGATE_RETENTION_CONTENT',
        }),
        prune_every_ms: setting(durationMs().default(3_600_000), {
          description: 'How often the gateway prunes (`1h`), off the request path, when a retention is set',
        }),
        prune_batch: setting(z.number().int().min(100).default(10_000), {
          description: 'At most this many events pruned (or content-pruned) per chain and run',
        }),
      },
      'Retention: scheduled prune of old events and content (docs/privacy.md)',
    ),
    sinks: section(
      {
        jsonl: section(
          {
            dir: setting(z.string().min(1).nullable().default(null), {
              description: 'Rotating JSONL copies of every event in this folder (off while null)',
              env: 'TOLLGATE_JSONL_DIR',
            }),
            max_bytes: setting(positive().default(100 * 1024 * 1024), {
              description: 'Rotate past this size',
            }),
            max_files: setting(positive().default(10), { description: 'Rotated files kept' }),
            rotate_ms: setting(positive().default(86_400_000), { description: 'Rotate at least this often' }),
          },
          'JSONL files for log shippers',
        ),
      },
      'Copies of every event',
    ),
    metrics: section(
      {
        max_models: setting(z.number().int().min(1).default(20), {
          description: 'Distinct model labels kept on `GET /metrics` (the rest are `other`)',
        }),
        user_label: setting(z.boolean().default(false), { description: 'Per-user series on `GET /metrics`' }),
        max_quota_keys: setting(z.number().int().min(1).default(20), {
          description:
            'Distinct provider-key labels kept on the `/metrics` quota gauges (the rest are `other`)',
        }),
      },
      'Prometheus metrics',
    ),
  })
  .superRefine((c, ctx) => {
    if (c.alerts.webhook_url && !c.alerts.webhook_secret)
      ctx.addIssue({
        code: 'custom',
        path: ['alerts', 'webhook_secret'],
        message: 'required with alerts.webhook_url',
      });
  });

/** The effective configuration (every key present, defaults filled). */
export type TollgateConfig = z.output<typeof configSchema>;
