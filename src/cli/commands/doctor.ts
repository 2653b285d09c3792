import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { auditDataPaths, localPaths } from '../../app/local-paths.js';
import { openToOthers } from '../../store/sqlite/open-to-others.js';
import { checkIntegritySetup } from '../../doctor/integrity-checks.js';
import { isPostgresUrl } from '../../store/open-event-store.js';
import { doctorReportToJson, formatDoctorReport } from '../../doctor/format-doctor-report.js';
import { runDoctor } from '../../doctor/run-doctor.js';
import { configFor, globals, println, type CliContext } from '../cli-context.js';

interface DoctorCliOptions {
  upstream?: string;
  keyEnv?: string;
  timeout?: string;
}

export function registerDoctor(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description(
      'diagnose a provider key and base URL (format, whitespace, DNS, TLS, timeouts, 401/403/404/429); exit 1 when unhealthy',
    )
    .option('--upstream <url>', 'base URL to check (default: the configured upstream)')
    .option('--key-env <name>', 'environment variable holding the key (default OPENAI_API_KEY)')
    .option('--timeout <ms>', 'per-phase timeout in ms (default 10000)')
    .action(async (opts: DoctorCliOptions, cmd: Command) => {
      const g = globals(cmd);
      const config = configFor(ctx, g);
      const upstreamUrl = opts.upstream ?? config.upstream_url;
      const keyEnv = opts.keyEnv ?? 'OPENAI_API_KEY';
      const report = await runDoctor({
        upstreamUrl,
        // Passed exactly as set: a stray newline or space is one of the things to find.
        apiKey: ctx.env[keyEnv] ?? '',
        timeoutMs: opts.timeout ? Number(opts.timeout) : 10_000,
      });
      // Where the signing key lives, whether checkpoints are anchored and who can read the audit
      // data: warnings, never failures.
      const paths = localPaths(config);
      const c = config.checkpoints;
      report.findings.push(
        ...checkIntegritySetup({
          keySource: c.signing_key
            ? 'env'
            : c.signing_key_command
              ? 'command'
              : c.signing_key_file
                ? 'file'
                : 'data-folder',
          keyFile: c.signing_key || c.signing_key_command ? null : (c.signing_key_file ?? paths.signingKey),
          storeDir: isPostgresUrl(config.db) ? paths.dir : dirname(resolve(config.db)),
          anchorFile: paths.anchorFile,
          openToOthers: openToOthers(auditDataPaths(config)),
        }),
      );
      println(
        ctx.stdout,
        g.json
          ? doctorReportToJson(report)
          : formatDoctorReport(report, { color: ctx.stdout.isTTY === true && !ctx.env.NO_COLOR }),
      );
      if (!report.healthy) process.exitCode = 1;
    });
}
