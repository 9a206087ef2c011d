/**
 * Opens resources for the pool and, when that fails, retries with capped exponential backoff
 * (±20 % jitter): a dead database gets a handful of attempts per second, never a busy loop.
 * While a retry is scheduled, the pool opens nothing; the retry timer wakes the pool instead.
 */
import { attempt } from "./settle.js";

/** What the opener tells the pool. */
export interface OpenerHooks<T> {
  /** A resource is open; `ms` is how long it took; `after` is set when it ends a run of failures. */
  opened(resource: T, ms: number, after?: RecoveredAfter): void;
  /** An attempt failed; `retryInMs` is 0 when a retry was already scheduled by another failure. */
  failed(error: unknown, retryInMs: number): void;
  /** The backoff passed: time to try again if still needed. */
  retry(): void;
}

/** The run of failed attempts a successful open ended. */
export interface RecoveredAfter {
  /** Failed attempts in a row before this success. */
  failures: number;
  /** From the first of those failures to this success, in ms. */
  failingMs: number;
}

/** Resource creation with backoff. */
export class Opener<T> {
  /** Attempts in flight. */
  inFlight = 0;
  /** Failed attempts since the last success (0 = healthy). */
  consecutiveFailures = 0;
  /** Failed attempts since the pool opened. */
  totalFailures = 0;
  /** The most recent failure, cleared by a success. */
  lastError: unknown;
  readonly #create: () => Promise<T>;
  readonly #hooks: OpenerHooks<T>;
  readonly #firstDelay: number;
  readonly #maxDelay: number;
  #delay: number;
  /** performance.now() of the first failure of the current run (undefined while healthy). */
  #failingSince: number | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(create: () => Promise<T>, firstDelay: number, maxDelay: number, hooks: OpenerHooks<T>) {
    this.#create = create;
    this.#hooks = hooks;
    this.#firstDelay = firstDelay;
    this.#maxDelay = maxDelay;
    this.#delay = firstDelay;
  }

  /** True while waiting out a backoff: open() must not be called. */
  get backingOff(): boolean {
    return this.#retryTimer !== undefined;
  }

  /** Starts one attempt. */
  open(): void {
    this.inFlight++;
    const started = performance.now();
    attempt(this.#create).then(
      (resource) => {
        this.inFlight--;
        const now = performance.now();
        const after =
          this.consecutiveFailures > 0 && this.#failingSince !== undefined
            ? { failures: this.consecutiveFailures, failingMs: now - this.#failingSince }
            : undefined;
        this.consecutiveFailures = 0;
        this.#failingSince = undefined;
        this.lastError = undefined;
        this.#delay = this.#firstDelay;
        this.#hooks.opened(resource, now - started, after);
      },
      (error: unknown) => {
        this.inFlight--;
        this.totalFailures++;
        this.consecutiveFailures++;
        this.#failingSince ??= performance.now();
        this.lastError = error;
        this.#hooks.failed(error, this.#retryTimer === undefined ? this.#scheduleRetry() : 0);
      },
    );
  }

  /** Cancels a scheduled retry (pool closing). */
  stop(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #scheduleRetry(): number {
    const delay = Math.round(this.#delay * (0.8 + Math.random() * 0.4));
    this.#delay = Math.min(this.#delay * 2, this.#maxDelay);
    // unref()'d: a retry must not keep the process alive; a waiter's own timer does while anyone waits.
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#hooks.retry();
    }, delay);
    this.#retryTimer.unref();
    return delay;
  }
}
