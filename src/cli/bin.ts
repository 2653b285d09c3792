#!/usr/bin/env -S node --max-semi-space-size=8
// The `tollgate` executable: the only place that hands the process environment to the CLI.
// --max-semi-space-size=8 (MB, V8's default is 16 on 64-bit): a smaller young generation keeps a
// busy gateway's peak RSS ~10-25 MB lower (bench/gateway.bench.ts, c=50: 137 vs 145-163 MB) for a
// few more, shorter scavenges. The bench starts Tollgate with the flags read from this line.
import { runCli } from './main.js';

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  now: () => Date.now(),
});
