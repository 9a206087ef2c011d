/**
 * A caller queued for a resource. It owns its timer and takes itself out of the count when the
 * timer fires (tarn's PendingOperation); the queue drops settled waiters lazily when they reach
 * its head, so a timeout never scans the queue.
 */
import type { HoldfastError } from "../../errors/index.js";
import type { Lease } from "./lease.js";

/** One queued acquire. */
export class Waiter<T> {
  /** performance.now() when the caller started waiting. */
  readonly startedAt: number;
  /** How long it may wait: min(acquireTimeout, deadline remaining). */
  readonly limitMs: number;
  /** True when the request deadline, not the acquire timeout, set {@link limitMs}. */
  readonly cutByDeadline: boolean;
  /** Acquirer's stack, only when leak detection is on. */
  readonly stack: string | undefined;
  readonly promise: Promise<Lease<T>>;
  /** True once granted, timed out or failed. */
  done = false;
  #resolve!: (lease: Lease<T>) => void;
  #reject!: (err: unknown) => void;
  readonly #timer: NodeJS.Timeout;

  constructor(limitMs: number, cutByDeadline: boolean, stack: string | undefined, onTimeout: (w: Waiter<T>) => HoldfastError) {
    this.startedAt = performance.now();
    this.limitMs = limitMs;
    this.cutByDeadline = cutByDeadline;
    this.stack = stack;
    this.promise = new Promise<Lease<T>>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Not unref()'d: a caller is awaiting this promise, so the process must live until it settles.
    this.#timer = setTimeout(() => {
      if (this.done) return;
      this.done = true;
      this.#reject(onTimeout(this));
    }, Math.max(0, limitMs));
  }

  /** Hands the caller its lease. */
  grant(lease: Lease<T>): void {
    this.done = true;
    clearTimeout(this.#timer);
    this.#resolve(lease);
  }

  /** Rejects the caller (pool closed). */
  fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.#timer);
    this.#reject(err);
  }
}
