import type { Command } from 'commander';
import { createLogger } from '../../app/logger.js';
import { otelConfigFromEnv, unknownTraceSampler } from '../../observability/otel-env.js';
import { urlWithoutCredentials } from '../../observability/url-without-credentials.js';
import { configFor, globals, println, type CliContext } from '../cli-context.js';
import { signInHint } from '../format/sign-in-hint.js';

export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('run the gateway (OpenAI-compatible, under /v1)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default 8787)')
    .option('--upstream <url>', 'provider base URL (default https://api.openai.com/v1)')
    .option(
      '--failure-policy <policy>',
      'fail-open (default) or fail-closed when the audit trail cannot be written',
    )
    .option('--content-mode <mode>', 'none | redacted (default) | full | encrypted')
    .action(
      async (
        opts: {
          host?: string;
          port?: string;
          upstream?: string;
          failurePolicy?: string;
          contentMode?: string;
        },
        cmd: Command,
      ) => {
        const config = configFor(ctx, globals(cmd), {
          host: opts.host,
          port: opts.port,
          upstream_url: opts.upstream,
          failure_policy: opts.failurePolicy,
          'content.mode': opts.contentMode,
        });
        const log = createLogger(ctx.env.TOLLGATE_LOG_LEVEL ?? 'info');
        // OTLP export is off unless the standard OTEL_EXPORTER_OTLP_*ENDPOINT variables are set.
        const otel = otelConfigFromEnv(ctx.env);
        const sampler = otel ? unknownTraceSampler(ctx.env) : null;
        if (sampler !== null)
          log.warn({ sampler }, 'OTEL_TRACES_SAMPLER not supported: every trace is sampled');
        // The gateway and everything it wires load only for this command (other commands start faster).
        const { startTollgate } = await import('../../app/start-tollgate.js');
        const tg = await startTollgate({ config, log, ...(otel ? { otel } : {}) });
        await new Promise<void>((resolve) => {
          const stop = (signal: string): void => {
            log.info({ signal }, 'shutting down: draining the audit queue');
            void tg.close().then(() => {
              const s = tg.writer.stats();
              log.info({ written: s.written, spooled: s.spooled, dropped: s.dropped }, 'stopped');
              resolve();
            });
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
          // Readiness is announced only once a signal drains: a supervisor may stop us right after it.
          if (tg.createdSecret)
            println(ctx.stderr, `created a fingerprint secret in the data folder (mode 0600)`);
          const admin = tg.admin.token;
          // The token is not printed (terminal scrollback keeps it): the one-time link signs in.
          if (admin.created) println(ctx.stderr, `admin token created at ${tg.admin.path} (mode 0600)`);
          else if (admin.fileTooOpen)
            println(ctx.stderr, `warning: ${tg.admin.path} is readable by others; chmod 600 it`);
          for (const line of signInHint(tg)) println(ctx.stderr, line);
          println(ctx.stdout, `listening on ${tg.url}`);
          log.info(
            {
              // The base URL with its path (`/v1`), without credentials or a query (a key may ride there).
              upstream: upstreamForLog(config.upstream_url),
              instance_id: tg.instanceId,
              db: urlWithoutCredentials(config.db),
            },
            'gateway ready',
          );
        });
      },
    );
}

function upstreamForLog(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}
