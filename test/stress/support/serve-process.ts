import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** A `tollgate serve` child process on 127.0.0.1 with a free port. */
export interface ServeProcess {
  url: string;
  proc: ChildProcessWithoutNullStreams;
  /** Everything the process wrote to stderr (its structured log). */
  log(): string;
  /** Sends a signal and resolves with the exit code (null when killed by a signal). */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

export interface ServeOptions {
  db: string;
  upstream: string;
  env?: Record<string, string>;
  args?: string[];
  /** How long to wait for `listening on`, ms. */
  startTimeoutMs?: number;
}

/** Starts `tollgate serve --port 0` through tsx and waits for its `listening on` line. */
export async function startServe(o: ServeOptions): Promise<ServeProcess> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/bin.ts',
      'serve',
      '--port',
      '0',
      '--upstream',
      o.upstream,
      '--db',
      o.db,
      ...(o.args ?? []),
    ],
    { env: { ...process.env, TOLLGATE_LOG_LEVEL: 'warn', ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let err = '';
  proc.stderr.on('data', (d: Buffer) => {
    // Bounded: keep the last 1 MB of log.
    err = (err + d.toString()).slice(-1_000_000);
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`serve did not start in time; log: ${err.slice(-2000)}`)),
      o.startTimeoutMs ?? 60_000,
    );
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening; log: ${err.slice(-2000)}`));
    });
  });
  return {
    url,
    proc,
    log: () => err,
    async stop(signal) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
}
