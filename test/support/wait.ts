/**
 * Waiting in tests: `eventually` polls for a condition with a deadline (what a test should wait
 * for), `sleep` is for pacing a scenario (a client backing off, a fault held for a while), never
 * for a fixed pause before an assertion.
 */
export { setTimeout as sleep } from "node:timers/promises";

/** Polls `fn` every 100 ms until it returns a truthy value (returned) or `ms` pass (throws, naming `what`). */
export async function eventually<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 10_000, what = "condition"): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`${what} not reached within ${ms} ms${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
