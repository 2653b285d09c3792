/**
 * What a running Tollgate (or SDK auditor) has opened, in the order it was opened. Each resource
 * records its close as it is acquired (`own`), and `close()` runs them in reverse: what was opened
 * last, and may still use what was opened before it, is closed first. A start that fails halfway
 * closes the same way, so a port in use or a bad setting does not leave a pool, a socket or a
 * timer keeping the process alive. The model is Fastify's `onClose` hooks (run in reverse order of
 * registration).
 */
export class Lifetime {
  private readonly closers: Array<{ name: string; close: () => unknown }> = [];
  private closing: Promise<void> | null = null;

  /**
   * Records how to close a resource just acquired and returns the resource, so acquisition and
   * its close sit on one line: `const redis = life.own('redis', createClient(), (c) => c.disconnect())`.
   */
  own<T>(name: string, resource: T, close: (resource: T) => unknown): T {
    this.defer(name, () => close(resource));
    return resource;
  }

  /** Records a step to run at close (a timer to clear, a queue to flush), after what is acquired later. */
  defer(name: string, close: () => unknown): void {
    if (this.closing) throw new Error(`lifetime already closed; cannot add ${name}`);
    this.closers.push({ name, close });
  }

  /**
   * Runs every recorded close once, newest first, each awaited before the next. A close that
   * fails does not stop the others; `onError` hears it by name (never content). Idempotent.
   */
  close(onError?: (name: string, err: unknown) => void): Promise<void> {
    this.closing ??= (async () => {
      for (const { name, close } of this.closers.reverse()) {
        try {
          await close();
        } catch (err) {
          onError?.(name, err);
        }
      }
    })();
    return this.closing;
  }
}
