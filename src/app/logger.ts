import { pino, type Logger } from 'pino';

/**
 * Tollgate's operational log: structured JSON on stderr through pino. It carries ids, codes and
 * counts only — never content, keys or header values from requests.
 */
export function createLogger(level: string = 'info'): Logger {
  return pino({ level, base: { service: 'tollgate' } }, pino.destination(2));
}

export type { Logger };
