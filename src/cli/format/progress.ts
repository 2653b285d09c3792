/**
 * One self-overwriting progress line for long CLI work (verify, export, prune, rebuilding the
 * rollups): written only when the stream is a terminal, so pipes, files and `--json` stay clean,
 * and at most every `everyMs` so a tight loop does not flood the terminal. Commands write it to
 * stderr; their result goes to stdout.
 */
export interface Progress {
  /** Reports `done` of `total` units (total unknown: null). */
  update(done: number, total?: number | null): void;
  /** Clears the line; prints `final` in its place when given. */
  end(final?: string): void;
}

export interface ProgressOptions {
  /** What is being done, e.g. `verifying chain gw-1` or `exported`. */
  label: string;
  /** The unit counted, plural (default `events`). */
  unit?: string;
  /** Wall clock of the CLI (`ctx.now`). */
  now: () => number;
  /** Least time between two redraws (default 200 ms). */
  everyMs?: number;
}

/** A progress line on `stream`, or one that does nothing when `stream` is not a TTY. */
export function createProgress(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  o: ProgressOptions,
): Progress {
  if (stream.isTTY !== true) return { update: () => undefined, end: () => undefined };
  const everyMs = o.everyMs ?? 200;
  let last = -Infinity;
  let drawn = false;
  return {
    update(done, total = null) {
      const t = o.now();
      if (t - last < everyMs) return;
      last = t;
      drawn = true;
      // \r to the line start, then ESC[K (erase to end of line) so a shorter text leaves no tail.
      stream.write(`\r${progressText(o.label, done, total, o.unit ?? 'events')}\u001b[K`);
    },
    end(final) {
      if (drawn) stream.write('\r\u001b[K');
      if (final !== undefined) stream.write(`${final}\n`);
    },
  };
}

/** `label: 12,000 / 48,000 events (25 %)`, or `label: 12,000 events` when the total is unknown. */
export function progressText(label: string, done: number, total: number | null, unit: string): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  if (total === null || total <= 0) return `${label}: ${n(done)} ${unit}`;
  const pct = Math.min(100, Math.floor((done / total) * 100));
  return `${label}: ${n(done)} / ${n(total)} ${unit} (${pct} %)`;
}
