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

/**
 * Asks a worker of spawnModuleWorker to end (the message `'close'`, on which it closes its
 * connection and its port) and resolves once it has exited; the worker holds the process open
 * meanwhile. With `graceMs`, a worker that has not exited by then is terminated.
 */
export async function closeModuleWorker(worker: Worker, graceMs: number | null = null): Promise<void> {
  if (worker.threadId === -1) return; // already exited
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.ref();
  worker.postMessage('close');
  if (graceMs === null) return exited;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), graceMs);
    timer.unref();
  });
  if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
  clearTimeout(timer);
}
