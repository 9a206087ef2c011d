/** Turning user callbacks (create, destroy, validate, ping) into bounded promises. */

/** Calls `fn`, turning a synchronous throw into a rejection. */
export function attempt<R>(fn: () => Promise<R> | R): Promise<R> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Rejects when `p` has not settled within `ms` (the timer is unref()'d). */
export function withTimeout<R>(p: Promise<R>, ms: number): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** `code: message` for logs. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return code ? `${String(code)}: ${err.message}` : err.message;
  }
  return String(err);
}

const POOL_FRAME = /[\\/]db[\\/]pool[\\/](pool|lease|waiter|settle)\.[jt]s:/;

/** The acquirer's stack without the pool's own frames, for leak reports. */
export function acquirerStack(): string | undefined {
  const stack = new Error("acquired here").stack;
  return stack
    ?.split("\n")
    .slice(1)
    .filter((line) => !POOL_FRAME.test(line))
    .join("\n");
}
