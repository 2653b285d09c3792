/**
 * The operational log the builders write to (pino's shape: fields first, then the message).
 * Fields carry ids, codes and counts, never content or keys.
 */
export interface Log {
  /** Routine records meant to be shipped (e.g. each checkpoint's anchor line). */
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}
