import type { AlertSink } from './alert-sink.js';
import { alertLine } from './alert-text.js';

export interface LogSinkOptions {
  /** Where lines go, e.g. `(l) => process.stderr.write(l + '\n')` or a pino logger's `warn`. */
  write: (line: string) => void;
  /** `text` (default): one human line; `json`: the alert as one JSON line. */
  format?: 'text' | 'json';
  name?: string;
}

/** Console/log sink: one line per alert change. */
export function createLogSink(options: LogSinkOptions): AlertSink {
  return {
    name: options.name ?? 'log',
    async send(alert, change) {
      try {
        options.write(
          options.format === 'json' ? JSON.stringify({ change, alert }) : alertLine(alert, change),
        );
        return { ok: true };
      } catch {
        return { ok: false, reason: 'write_failed', retryable: false };
      }
    },
  };
}
