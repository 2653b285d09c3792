import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Compiles src/ and bench/ to plain JavaScript (`.bench-build/`) so benchmark servers run on
 * bare `node`, without a TypeScript loader's thread and memory in the numbers. Returns the
 * path of a compiled bench file.
 */
export function compileForBench(): (benchFile: string) => string {
  const root = fileURLToPath(new URL('..', import.meta.url));
  // tsc emits even when another part of the tree has type errors; the build is only for running.
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.bench.json'], { cwd: root, stdio: 'ignore' });
  } catch {
    // type errors elsewhere still leave the emitted files
  }
  const prices = `${root}.bench-build/prices`;
  if (!existsSync(prices)) symlinkSync(`${root}prices`, prices);
  return (benchFile) => `${root}.bench-build/bench/${benchFile.replace(/\.ts$/, '.js')}`;
}
