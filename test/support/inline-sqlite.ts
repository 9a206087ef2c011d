/**
 * Helpers of the inline-statement tests (reads and writes): a query whose cost grows with its
 * parameter, calibrated on this machine now, and a measure of how long a call held the event loop.
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import BetterSqlite3 from "better-sqlite3";

/** A read whose cost grows with its parameter: a recursive count to ?. */
export const SLOW_READ = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) AS n FROM c";

/**
 * Finds the count at which SLOW_READ takes at least `ms` on this machine now, and how long it takes:
 * the fastest of 3 runs, so a moment the OS took the CPU away does not count as the query's own time.
 */
export function calibrate(path: string, ms: number): { count: number; tookMs: number } {
  const raw = new BetterSqlite3(path, { readonly: true });
  try {
    const stmt = raw.prepare(SLOW_READ);
    let count = 100_000;
    for (;;) {
      let took = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        stmt.get(count);
        took = Math.min(took, performance.now() - t0);
      }
      if (took >= ms) return { count, tookMs: took };
      count = Math.ceil(count * Math.min(4, Math.max(1.2, (ms * 1.3) / Math.max(took, 0.1))));
    }
  } finally {
    raw.close();
  }
}

/**
 * Runs `call(i)` until `promoted()` (its statement runs inline: it needs a streak of fast runs on a
 * thread, which a loaded machine may break now and then), at most `max` times; returns how many runs it took.
 */
export async function warmUntil(promoted: () => boolean, call: (i: number) => Promise<unknown>, max = 2000): Promise<number> {
  for (let i = 1; i <= max; i++) {
    await call(i);
    if (promoted()) return i;
  }
  assert.fail(`the statement did not run inline after ${max} fast runs`);
}

/**
 * Calls `fn` and records how long the call held the event loop: an inline statement runs inside the
 * call, for its whole run; a threaded one only posts a message. A timer-based measure (event-loop
 * delay) would also count the OS descheduling the whole process, which on a busy shared machine
 * reaches the length of these queries by itself; the call's own synchronous time does not.
 */
export function held<T>(times: number[], fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const p = fn();
  times.push(performance.now() - t0);
  return p;
}

// reduce, not Math.max(...times): spreading 100 000+ samples overflows the stack (Node 24 does).
export const longest = (times: number[]) => times.reduce((a, b) => Math.max(a, b), 0);
export const total = (times: number[]) => times.reduce((a, b) => a + b, 0);
