import type { Command } from 'commander';
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
      const upstreamUrl = opts.upstream ?? configFor(ctx, g).upstream_url;
      const keyEnv = opts.keyEnv ?? 'OPENAI_API_KEY';
      const report = await runDoctor({
        upstreamUrl,
        // Passed exactly as set: a stray newline or space is one of the things to find.
        apiKey: ctx.env[keyEnv] ?? '',
        timeoutMs: opts.timeout ? Number(opts.timeout) : 10_000,
      });
      println(
        ctx.stdout,
        g.json
          ? doctorReportToJson(report)
          : formatDoctorReport(report, { color: ctx.stdout.isTTY === true && !ctx.env.NO_COLOR }),
      );
      if (!report.healthy) process.exitCode = 1;
    });
}
