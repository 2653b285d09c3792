import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * A worker thread running the module `name` (without extension) beside the calling module
 * `from` (its `import.meta.url`). It runs from dist/ as JavaScript; from the TypeScript sources
 * (tests, tsx), it is loaded through tsx's loader, which worker threads do not inherit.
 */
export function spawnModuleWorker(from: string, name: string, workerData: unknown): Worker {
  if (from.endsWith('.js')) return new Worker(new URL(`./${name}.js`, from), { workerData });
  const target = new URL(`./${name}.ts`, from).href;
  // require.resolve finds the CommonJS build; its ES module twin is the one that registers hooks.
  const tsx = pathToFileURL(
    createRequire(from)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
