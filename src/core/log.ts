/**
 * The operational log the builders write to (pino's shape: fields first, then the message).
 * Fields carry ids, codes and counts, never content or keys.
 */
export interface Log {
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}
