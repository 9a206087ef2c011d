/**
 * context/ — the request context contract: the current request's id, deadline and abort
 * signal, carried in AsyncLocalStorage. A leaf module: server/ writes it, db/ and cache/
 * read it (to bound every wait by the remaining deadline) without importing the server.
 */
import { performance } from "node:perf_hooks";
import { AsyncLocalStorage } from "node:async_hooks";
import { errors } from "../errors/index.js";

/** A point in time by which a request must be answered. Monotonic (performance.now based). */
export class Deadline {
  /** performance.now() value at which the deadline passes; Infinity for none. */
  readonly at: number;

  constructor(at: number) {
    this.at = at;
  }

  /** A deadline `ms` from now (0 or less, or Infinity: none). */
  static after(ms: number): Deadline {
    return new Deadline(ms > 0 && Number.isFinite(ms) ? performance.now() + ms : Number.POSITIVE_INFINITY);
  }

  /** No deadline. */
  static readonly NONE = new Deadline(Number.POSITIVE_INFINITY);

  /** Milliseconds left (may be negative); Infinity when there is no deadline. */
  remaining(): number {
    return this.at - performance.now();
  }

  /** True once the deadline has passed. */
  get expired(): boolean {
    return performance.now() >= this.at;
  }

  /** The smaller of `ms` and the time left: how long a wait may take under this deadline. */
  cap(ms: number): number {
    const left = this.remaining();
    return Math.max(0, Math.min(ms, left));
  }

  /** Throws DEADLINE_EXCEEDED when expired; `what` names the step that could not start. */
  check(what: string): void {
    this.checkAt(performance.now(), what);
  }

  /**
   * {@link check} against a clock reading the caller already has (performance.now()): one read serves
   * several uses on a hot path. The message is built only when it throws, so `what` is passed as is.
   */
  checkAt(now: number, what: string): void {
    if (now >= this.at) throw errors.deadlineExceeded(`The request deadline passed before ${what} could start.`);
  }
}

/** What every step of a request can know about it. */
export interface RequestContext {
  /** From X-Request-Id, or generated. */
  readonly requestId: string;
  /** When the request must be answered. */
  readonly deadline: Deadline;
  /** Aborted when the deadline passes or the client goes away. */
  readonly signal: AbortSignal;
  /**
   * Gives the request's admission slot back while it only waits for another process (a SQLite
   * write lock held elsewhere), so waiting writes do not take the slots reads need. Idempotent.
   */
  parkAdmission?(): void;
}

const storage = new AsyncLocalStorage<RequestContext>();

/*
 * Carrying the context across every await of every request is the largest per-request cost a
 * worker pays when nothing reads it: on Node 20 the first AsyncLocalStorage.run() installs async
 * hooks for the life of the process (14 % of a hello-world request's instructions, counted in
 * docs/benchmarks.md); on Node 22+ each run copies the async context frame. So the context is
 * carried lazily: until something asks for it, a request's context is set for the synchronous
 * part of its handler only; the first ask (currentContext(), currentDeadline(), or
 * useRequestContext(), which a defineApp worker, openDatabase() and createCache() call) turns
 * carrying on for every later request.
 */
let carried = false;
/** The context of the handler running synchronously right now, while contexts are not carried. */
let syncContext: RequestContext | undefined;

/**
 * Makes every later request carry its context across awaits. openDatabase() and createCache()
 * call it; call it at start-up when your own async code reads
 * currentContext() and opens no holdfast database or cache.
 */
export function useRequestContext(): void {
  carried = true;
}

/** Runs `fn` with `ctx` as the current request context, across its awaits. */
export function runWithContext<T>(ctx: RequestContext, fn: () => T): T {
  carried = true;
  return storage.run(ctx, fn);
}

/**
 * Calls `fn(a, b)` with `ctx` as the current request context: the request listener's call, once per
 * request, so two fixed arguments (no closure, no rest array) rather than a general `...args`.
 */
export function callWithContext<A, B, T>(ctx: RequestContext, fn: (a: A, b: B) => T, a: A, b: B): T {
  if (carried) return storage.run(ctx, fn, a, b);
  const outer = syncContext;
  syncContext = ctx;
  try {
    return fn(a, b);
  } finally {
    syncContext = outer;
  }
}

/** The current request context, or undefined outside a request (background jobs, start-up). */
export function currentContext(): RequestContext | undefined {
  carried = true;
  return storage.getStore() ?? syncContext;
}

/** The current request's deadline, or {@link Deadline.NONE} outside a request. */
export function currentDeadline(): Deadline {
  carried = true;
  return (storage.getStore() ?? syncContext)?.deadline ?? Deadline.NONE;
}
