/**
 * A caller queued for a resource. It owns its timer (and its request's abort listener) and takes
 * itself out of the count when either fires (tarn's PendingOperation); the queue drops settled
 * waiters lazily when they reach its head, so giving up never scans the queue.
 */
import type { HoldfastError } from "../../errors/index.js";
import type { Lease } from "./lease.js";

/** Why a waiter stopped waiting without a resource. */
export type GiveUp = "timeout" | "aborted";

/** One queued acquire. */
export class Waiter<T> {
  /** The pool clock when the caller started waiting. */
  readonly startedAt: number;
  /** How long it may wait: min(acquireTimeout, deadline remaining). */
  readonly limitMs: number;
  /** True when the request deadline, not the acquire timeout, set {@link limitMs}. */
  readonly cutByDeadline: boolean;
  /** Acquirer's stack, only when leak detection is on. */
  readonly stack: string | undefined;
  readonly promise: Promise<Lease<T>>;
  /** True once granted, given up or failed. */
  done = false;
  #resolve!: (lease: Lease<T>) => void;
  #reject!: (err: unknown) => void;
  readonly #timer: NodeJS.Timeout;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: (() => void) | undefined;

  constructor(
    startedAt: number,
    limitMs: number,
    cutByDeadline: boolean,
    stack: string | undefined,
    signal: AbortSignal | undefined,
    giveUp: (w: Waiter<T>, why: GiveUp) => HoldfastError,
  ) {
    this.startedAt = startedAt;
    this.limitMs = limitMs;
    this.cutByDeadline = cutByDeadline;
    this.stack = stack;
    this.promise = new Promise<Lease<T>>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Not unref()'d: a caller is awaiting this promise, so the process must live until it settles.
    this.#timer = setTimeout(() => this.#giveUp(giveUp, "timeout"), Math.max(0, limitMs));
    // A request whose client went away leaves the queue at once instead of holding a place in it.
    if (signal) {
      this.#signal = signal;
      this.#onAbort = () => this.#giveUp(giveUp, "aborted");
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  /** Hands the caller its lease. */
  grant(lease: Lease<T>): void {
    this.#settle();
    this.#resolve(lease);
  }

  /** Rejects the caller (pool closed). */
  fail(err: unknown): void {
    if (this.done) return;
    this.#settle();
    this.#reject(err);
  }

  #giveUp(giveUp: (w: Waiter<T>, why: GiveUp) => HoldfastError, why: GiveUp): void {
    if (this.done) return;
    this.#settle();
    this.#reject(giveUp(this, why));
  }

  #settle(): void {
    this.done = true;
    clearTimeout(this.#timer);
    if (this.#onAbort) this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}
