import { Command, CommanderError, Help } from 'commander';
import { TollgateError } from '../core/errors.js';
import type { CliContext } from './cli-context.js';
import { registerCommands } from './commands/register-commands.js';
import { terminalSafe } from './format/terminal-text.js';

/** Builds the `tollgate` program; exported so tests run commands in-process. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('tollgate')
    .description('Tollgate: a security audit gateway for AI API traffic')
    .option(
      '--db <path>',
      'the store: a SQLite file (default ./data/tollgate.db) or a postgres:// URL; or TOLLGATE_DB',
    )
    .option('--config <file>', 'config file (default ./tollgate.config.yaml when present)')
    .option('--json', 'machine output: one JSON object per line for listings, one document for reports')
    // Required options say so in --help (commander lists them like any other option).
    .configureHelp({
      optionDescription: (opt) => {
        const text = new Help().optionDescription(opt);
        return opt.mandatory ? `(required) ${text}` : text;
      },
    })
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) });
  registerCommands(program, ctx);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Runs the CLI; resolves to the exit code (0 ok, 1 failed check or error, 2 bad usage or config). */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.help' ||
        err.code === 'commander.version'
      )
        return 0;
      return 2;
    }
    if (err instanceof TollgateError) {
      const detail = err.detail
        ? ` (${Object.entries(err.detail)
            .map(([k, v]) => `${k}: ${terminalSafe(v)}`)
            .join(', ')})`
        : '';
      ctx.stderr.write(`tollgate: ${err.message}${detail}\n`);
      // A config that does not hold is bad usage too (DESIGN.md: exit 2 with a one-line reason).
      return err.code === 'TG_ERR_USAGE' || err.code === 'TG_ERR_CONFIG_INVALID' ? 2 : 1;
    }
    ctx.stderr.write(`tollgate: ${err instanceof Error ? terminalSafe(err.message) : 'unexpected error'}\n`);
    return 1;
  }
}
