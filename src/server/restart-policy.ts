/**
 * When to restart a worker that died, and when to give up. A worker that served (ready for at
 * least restart.minUptime) and then died — an operator's kill -9, the OOM killer, a crash after
 * hours of work — is replaced at once and says nothing about the app. A worker that died before
 * it was ready, or right after, is what a broken app looks like: its slot waits an exponential
 * backoff before the next try, and too many such deaths inside a window stop holdfast with a
 * clear error instead of forking in a hot loop. Backoff is kept per slot, so one slot's bad
 * luck never delays the replacement of another.
 */

/** Options (from config.restart, in ms). */
export interface RestartPolicyOptions {
  backoffInitial: number;
  backoffMax: number;
  crashLoopWindow: number;
  crashLoopMax: number;
  minUptime: number;
}

/** A worker that exited without being asked to. */
export interface WorkerDeath {
  slot: number;
  /** When it died (ms). */
  at: number;
  /** When it became ready (ms), or undefined when it never did. */
  readyAt: number | undefined;
}

/** What to do after a death. `early` is true when the worker died before it had served. */
export type RestartDecision =
  | { action: "restart"; delayMs: number; early: boolean; recentEarlyDeaths: number }
  | { action: "give-up"; early: true; recentEarlyDeaths: number };

/** Tracks worker deaths for one supervisor: backoff per slot, early deaths across all slots. */
export class RestartPolicy {
  readonly #o: RestartPolicyOptions;
  /** Early deaths in a row per slot; a worker of that slot that serves clears it. */
  readonly #streak = new Map<number, number>();
  /** Times of early deaths in the crash-loop window, oldest first. */
  readonly #early: number[] = [];

  constructor(o: RestartPolicyOptions) {
    this.#o = o;
  }

  /** True when a worker ready at `readyAt` had served by `now`. */
  served(readyAt: number | undefined, now: number): boolean {
    return readyAt !== undefined && now - readyAt >= this.#o.minUptime;
  }

  /** Records a death and decides. */
  onDeath(d: WorkerDeath): RestartDecision {
    while (this.#early.length && (this.#early[0] as number) <= d.at - this.#o.crashLoopWindow) this.#early.shift();
    if (this.served(d.readyAt, d.at)) {
      this.#streak.delete(d.slot);
      return { action: "restart", delayMs: 0, early: false, recentEarlyDeaths: this.#early.length };
    }
    const streak = (this.#streak.get(d.slot) ?? 0) + 1;
    this.#streak.set(d.slot, streak);
    this.#early.push(d.at);
    const recent = this.#early.length;
    if (recent > this.#o.crashLoopMax) return { action: "give-up", early: true, recentEarlyDeaths: recent };
    const delayMs = Math.min(this.#o.backoffMax, this.#o.backoffInitial * 2 ** (streak - 1));
    return { action: "restart", delayMs, early: true, recentEarlyDeaths: recent };
  }
}
