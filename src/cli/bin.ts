#!/usr/bin/env node
// The `tollgate` executable: the only place that hands the process environment to the CLI.
import { runCli } from './main.js';

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  now: () => Date.now(),
});
