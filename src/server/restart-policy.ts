/**
 * When to restart a crashed worker, and when to give up: exponential backoff on crashes
 * in a row, and a crash-loop verdict when too many crashes fall inside a window — so a
 * broken deploy stops with a clear error instead of forking in a hot loop.
 */

/** Options (from config.restart, in ms). */
export interface RestartPolicyOptions {
  backoffInitial: number;
  backoffMax: number;
  crashLoopWindow: number;
  crashLoopMax: number;
}

/** What to do after a crash. */
export type RestartDecision = { action: "restart"; delayMs: number; recentCrashes: number } | { action: "give-up"; recentCrashes: number };

/** Tracks crashes across all workers of one supervisor. */
export class RestartPolicy {
  readonly #o: RestartPolicyOptions;
  readonly #crashes: number[] = [];
  #streak = 0;
  #lastCrash = 0;

  constructor(o: RestartPolicyOptions) {
    this.#o = o;
  }

  /** Records a crash at `now` (ms) and decides. */
  onCrash(now: number): RestartDecision {
    // A worker that ran quietly for a whole backoffMax period ends the streak.
    if (now - this.#lastCrash > Math.max(this.#o.backoffMax * 2, 5000)) this.#streak = 0;
    this.#lastCrash = now;
    this.#streak++;
    this.#crashes.push(now);
    while (this.#crashes.length && (this.#crashes[0] as number) < now - this.#o.crashLoopWindow) this.#crashes.shift();
    const recent = this.#crashes.length;
    if (recent > this.#o.crashLoopMax) return { action: "give-up", recentCrashes: recent };
    const delayMs = Math.min(this.#o.backoffMax, this.#o.backoffInitial * 2 ** (this.#streak - 1));
    return { action: "restart", delayMs, recentCrashes: recent };
  }
}
