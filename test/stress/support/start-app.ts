import { Writable } from 'node:stream';
import { pino } from 'pino';
import { DEFAULT_CONFIG, type TollgateConfig } from '../../../src/config/config.js';
import { startTollgate, type RunningTollgate } from '../../../src/app/start-tollgate.js';

/** A whole Tollgate started in-process through `startTollgate`, with its warn/error log captured. */
export interface App {
  tg: RunningTollgate;
  /** The log lines written so far (JSON), newest last. */
  logs: string[];
}

export async function startApp(o: {
  db: string;
  dataDir?: string;
  upstream: string;
  policy: TollgateConfig['failure_policy'];
  tune?: (c: TollgateConfig) => void;
}): Promise<App> {
  const config = structuredClone(DEFAULT_CONFIG);
  config.db = o.db;
  config.data_dir = o.dataDir ?? null;
  config.port = 0;
  config.upstream_url = o.upstream;
  config.failure_policy = o.policy;
  o.tune?.(config);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (logs.length < 100_000) logs.push(chunk.toString());
      cb();
    },
  });
  const tg = await startTollgate({ config, log: pino({ level: 'warn' }, sink) });
  return { tg, logs };
}
