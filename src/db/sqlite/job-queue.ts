/**
 * FIFO of jobs waiting for a SQLite thread. A waiter that passes its limit is removed by a
 * sweep (one unref'd timer while anything waits, not one timer per job: at tens of thousands of
 * reads a second the per-job timers cost more than the reads).
 */
import { performance } from "node:perf_hooks";
import type { PendingJob } from "./thread-handle.js";

/** How often waiting jobs are checked against their limits, in ms. */
const SWEEP_MS = 5;

/** A FIFO of pending jobs with bounded waits. */
export class JobQueue {
  #items: PendingJob[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #onExpire: (pj: PendingJob, waitedMs: number) => void;
  readonly #expiresEarly: ((pj: PendingJob, now: number) => boolean) | undefined;

  /**
   * `onExpire` is called, with the job already marked settled and how long it waited, for each job
   * whose queue limit passed (it must reject the job);
   * `expiresEarly`, when given, may end a job's wait before that limit (the writer: a bound on the whole wait while the lock is held elsewhere).
   */
  constructor(onExpire: (pj: PendingJob, waitedMs: number) => void, expiresEarly?: (pj: PendingJob, now: number) => boolean) {
    this.#onExpire = onExpire;
    this.#expiresEarly = expiresEarly;
  }

  /** Jobs waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Calls `fn` for every unsettled waiting job. */
  forEach(fn: (pj: PendingJob) => void): void {
    for (let i = this.#head; i < this.#items.length; i++) {
      const pj = this.#items[i] as PendingJob;
      if (!pj.settled) fn(pj);
    }
  }

  /** Adds a job at the back. */
  push(pj: PendingJob): void {
    this.#items.push(pj);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.sweep(performance.now()), SWEEP_MS);
      this.#timer.unref();
    }
  }

  /** The first unsettled job, without removing it. */
  peek(): PendingJob | undefined {
    while (this.#head < this.#items.length) {
      const pj = this.#items[this.#head] as PendingJob;
      if (!pj.settled) return pj;
      this.#head++;
    }
    this.#compact();
    return undefined;
  }

  /** Removes and returns the first unsettled job. */
  shift(): PendingJob | undefined {
    const pj = this.peek();
    if (pj) {
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) this.#compact();
    }
    if (this.length === 0) this.#compact();
    return pj;
  }

  /** Fails every waiting job whose limit has passed. */
  sweep(now: number): void {
    if (this.length === 0) {
      // Stop only when a whole sweep period found nothing waiting: a queue that empties and
      // refills every few microseconds must not create and clear a timer each time.
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#items = [];
      this.#head = 0;
      return;
    }
    for (let i = this.#head; i < this.#items.length; i++) {
      const pj = this.#items[i] as PendingJob;
      if (!pj.settled && (now >= pj.queueLimitAt || this.#expiresEarly?.(pj, now))) {
        pj.settled = true;
        this.#onExpire(pj, Math.round(now - pj.queuedAt));
      }
    }
    this.#items = this.#items.slice(this.#head).filter((pj) => !pj.settled);
    this.#head = 0;
    this.#compact();
  }

  /** Removes every waiting job and rejects each with a fresh `err()` (close). */
  failAll(err: () => Error): void {
    const out = this.#items.slice(this.#head).filter((pj) => !pj.settled);
    this.#items = [];
    this.#head = 0;
    this.stop();
    for (const pj of out) {
      pj.settled = true;
      pj.reject(err() as never);
    }
  }

  #compact(): void {
    if (this.#head >= this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
  }

  /** Stops the sweep timer (close). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
