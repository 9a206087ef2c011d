/**
 * When to restart a worker that died, and when to give up. A worker that got ready and then
 * died — an operator's kill -9, the OOM killer, a crash after hours of work — is replaced at
 * once. A worker that died before it was ready cannot be retried at once without a hot loop:
 * its slot waits an exponential backoff (kept per slot, so one slot's bad luck never delays
 * another). Deaths before a worker had served (ready for restart.minUptime) are what a broken
 * app looks like; too many inside a window stop holdfast with a clear error. Deaths of workers
 * that had served never count toward that, and neither does SIGKILL of a worker that got ready:
 * an app does not send itself SIGKILL, an operator or the kernel's OOM killer does.
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
  /** The signal that ended it, if any. */
  signal?: string | null | undefined;
}

/**
 * What to do after a death. `counted` is true when it counts toward a crash loop;
 * `delayMs` is 0 unless the worker died before it was ready.
 */
export type RestartDecision =
  | { action: "restart"; delayMs: number; counted: boolean; recentEarlyDeaths: number }
  | { action: "give-up"; counted: true; recentEarlyDeaths: number };

/** Tracks worker deaths for one supervisor: backoff per slot, early deaths across all slots. */
export class RestartPolicy {
  readonly #o: RestartPolicyOptions;
  /** Deaths before ready in a row per slot; a worker of that slot that gets ready clears it. */
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
    if (this.served(d.readyAt, d.at) || (d.readyAt !== undefined && d.signal === "SIGKILL")) {
      this.#streak.delete(d.slot);
      return { action: "restart", delayMs: 0, counted: false, recentEarlyDeaths: this.#early.length };
    }
    this.#early.push(d.at);
    const recent = this.#early.length;
    if (recent > this.#o.crashLoopMax) return { action: "give-up", counted: true, recentEarlyDeaths: recent };
    if (d.readyAt !== undefined) {
      // It got ready, so the app can start: the next try is worth making now.
      this.#streak.delete(d.slot);
      return { action: "restart", delayMs: 0, counted: true, recentEarlyDeaths: recent };
    }
    const streak = (this.#streak.get(d.slot) ?? 0) + 1;
    this.#streak.set(d.slot, streak);
    const delayMs = Math.min(this.#o.backoffMax, this.#o.backoffInitial * 2 ** (streak - 1));
    return { action: "restart", delayMs, counted: true, recentEarlyDeaths: recent };
  }
}
