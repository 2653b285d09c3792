import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';

/** Runs `tollgate ARGS` in-process and captures its output. */
export async function cli(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = new Writable({ write: (c: Buffer, _e, cb) => ((out += c.toString()), cb()) });
  const stderr = new Writable({ write: (c: Buffer, _e, cb) => ((err += c.toString()), cb()) });
  const before = process.exitCode;
  process.exitCode = undefined;
  const code = await runCli(args, { env, stdout, stderr, now: () => Date.now() });
  process.exitCode = before;
  return { code, out, err };
}
