/**
 * The deadline-aware pool core, generic over the resource (a pg client, a test dummy).
 * State is three collections: `#idle` (LIFO, so the rest age out), `#all` (every open
 * resource) and `#waiters` (FIFO). Every change ends in `#pump()`, the one scheduler.
 */
import diagnostics from "node:diagnostics_channel";
import { EventEmitter } from "node:events";
import { currentContext, Deadline } from "../../context/index.js";
import type { HoldfastError } from "../../errors/index.js";
import type { PoolStatus } from "../types.js";
import type { DestroyReason, PoolEvents } from "./events.js";
import { Lease, type LeaseOwner, type Slot } from "./lease.js";
import { type PoolOptions, type ResolvedPoolOptions, resolvePoolOptions } from "./options.js";
import {
  abortedError,
  closedError,
  deadlinePassedError,
  leakMessage,
  type PoolFacts,
  poolDrain,
  poolTimeoutError,
  queueFullError,
  unreachableError,
} from "./pool-errors.js";
import { dueMaintenance, housekeepingInterval } from "./housekeeping.js";
import { Opener, type RecoveredAfter } from "./opener.js";
import { PoolStats } from "./pool-stats.js";
import { RingQueue } from "./ring-queue.js";
import { acquirerStack, attempt, errorText, withTimeout } from "./settle.js";
import { Waiter } from "./waiter.js";

/** Published on every lend when someone subscribes: `{ pool, id, waitedMs, busy, waiting }`. */
const acquireChannel = diagnostics.channel("holdfast:pool:acquire");

/** HikariCP's variance: up to 2.5 % of maxLifetime, so connections opened together do not all expire together. */
const LIFETIME_JITTER = 0.025;

/** A bounded, FIFO, deadline-aware resource pool. */
export class Pool<T> extends EventEmitter<PoolEvents> {
  /** Name in logs, events and errors. */
  readonly name: string;
  readonly #o: ResolvedPoolOptions<T>;
  readonly #idle: Slot<T>[] = [];
  readonly #all = new Set<Slot<T>>();
  readonly #waiters = new RingQueue<Waiter<T>>();
  readonly #owner: LeaseOwner<T>;
  /** Waiters not yet settled (the queue may still hold settled ones until they reach its head). */
  #waiting = 0;
  /** Idle resources being validated on behalf of some waiter. */
  #readying = 0;
  #destroying = 0;
  #nextId = 1;
  #closed = false;
  #closeDone: (() => void) | undefined;
  readonly #opener: Opener<T>;
  readonly #stats = new PoolStats();
  readonly #housekeeper: NodeJS.Timeout | undefined;

  /** Creates the pool; opens `min` resources in the background. */
  constructor(options: PoolOptions<T>) {
    super();
    this.#o = resolvePoolOptions(options);
    this.name = this.#o.name;
    this.#opener = new Opener<T>(this.#o.create, this.#o.createRetryDelay, this.#o.createRetryMaxDelay, {
      opened: (resource, ms, after) => this.#opened(resource, ms, after),
      failed: (error, retryInMs) => this.#openFailed(error, retryInMs),
      retry: () => this.#pump(),
    });
    this.#owner = { settle: (slot, reason) => this.#settle(slot, reason) };
    const every = housekeepingInterval(this.#o);
    if (every > 0) {
      this.#housekeeper = setInterval(() => this.#housekeep(), every);
      this.#housekeeper.unref();
    }
    this.#pump();
  }

  /** Resources open (busy + idle). */
  get size(): number {
    return this.#all.size;
  }
  /** Resources lent out or being checked. */
  get busy(): number {
    return this.#all.size - this.#idle.length;
  }
  /** Resources open and free. */
  get idle(): number {
    return this.#idle.length;
  }
  /** Callers waiting. */
  get waiting(): number {
    return this.#waiting;
  }
  /** Resources being opened. */
  get pending(): number {
    return this.#opener.inFlight;
  }
  /** Acquires that failed with POOL_TIMEOUT or DB_UNAVAILABLE. */
  get timeouts(): number {
    return this.#stats.timeouts;
  }
  /** Leases reported as leaked. */
  get leaks(): number {
    return this.#stats.leaks;
  }
  /** Create attempts that failed (including ones that were retried). */
  get createErrors(): number {
    return this.#opener.totalFailures;
  }
  /** Resources opened. */
  get creates(): number {
    return this.#stats.creates;
  }
  /** True while a failed create waits out its backoff before the next attempt. */
  get backingOff(): boolean {
    return this.#opener.backingOff;
  }
  /** True after close(). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Borrows a resource. Waits at most min(acquireTimeout, the request's remaining deadline);
   * fails with DEADLINE_EXCEEDED when the deadline had already passed, POOL_QUEUE_FULL when
   * maxWaiting callers are queued, POOL_TIMEOUT when nothing became free in time (also when the
   * deadline cut the wait: the pool, not the handler, was the bottleneck, so 503 + Retry-After),
   * DB_UNAVAILABLE when no resource could be opened, POOL_CLOSED after close().
   */
  acquire(): Promise<Lease<T>> {
    if (this.#closed) return Promise.reject(closedError(this.name));
    const ctx = currentContext();
    const deadline = ctx?.deadline ?? Deadline.NONE;
    // Infinity check first: outside a request there is no clock read at all.
    const remaining = deadline.at === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : deadline.remaining();
    if (remaining <= 0) return Promise.reject(deadlinePassedError(this.name, -remaining));
    // Fast path: a free resource that needs no check and nobody ahead of us. No timer, no waiter.
    if (this.#waiting === 0 && this.#idle.length > 0) {
      const slot = this.#idle[this.#idle.length - 1];
      const now = this.#o.now();
      if (slot.expiresAt > now && (this.#o.validate === undefined || now - slot.lastCheckedAt <= this.#o.validateAfterIdle)) {
        this.#idle.pop();
        return Promise.resolve(this.#lend(slot, now, 0, undefined));
      }
    }
    if (this.#waiting >= this.#o.maxWaiting) {
      this.#stats.queueFull++;
      const facts = this.#facts();
      const err = queueFullError(facts, this.#o.maxWaiting, poolDrain(facts, this.#stats.usage.typicalMs));
      this.#o.log?.warn({ event: "pool.queue_full", ...this.#facts(), maxWaiting: this.#o.maxWaiting }, err.message);
      this.#emit("acquireError", err);
      return Promise.reject(err);
    }
    const limit = Math.min(this.#o.acquireTimeout, remaining);
    const stack = this.#o.leakDetectionThreshold > 0 ? acquirerStack() : undefined;
    // The signal is read only here, on the slow path: the request handler creates it lazily.
    const signal = ctx?.signal;
    if (signal?.aborted) return Promise.reject(abortedError(this.name, 0, signal.reason));
    const waiter = new Waiter<T>(this.#o.now(), limit, remaining < this.#o.acquireTimeout, stack, signal, (w, why) =>
      // The server also aborts the signal when the deadline passes: that is still a deadline-cut wait.
      why === "aborted" && !deadline.expired ? this.#onWaiterAborted(w, signal?.reason) : this.#onWaiterTimeout(w),
    );
    this.#waiters.push(waiter);
    this.#waiting++;
    this.#pump();
    return waiter.promise;
  }

  /** Runs `fn` with a borrowed resource and releases it afterwards, also when `fn` throws (unless `fn` settled the lease itself). */
  async use<R>(fn: (resource: T, lease: Lease<T>) => Promise<R> | R): Promise<R> {
    const lease = await this.acquire();
    try {
      return await fn(lease.resource, lease);
    } finally {
      if (!lease.settled) lease.release();
    }
  }

  /** Snapshot for /status, /metrics and the doctor. */
  status(): PoolStatus {
    return this.#stats.snapshot({
      size: this.#all.size,
      idle: this.#idle.length,
      waiting: this.#waiting,
      max: this.#o.max,
      createErrors: this.#opener.totalFailures,
    });
  }

  /**
   * Stops lending: rejects waiters with POOL_CLOSED, closes idle resources, waits for borrowed
   * ones to come back (closing each on return), and after `forceAfterMs` closes those too.
   */
  async close(options: { forceAfterMs?: number } = {}): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      if (this.#housekeeper) clearInterval(this.#housekeeper);
      this.#opener.stop();
      const err = closedError(this.name);
      for (const w of this.#waiters.drain()) {
        if (!w.done) w.fail(err);
      }
      this.#waiting = 0;
      for (const slot of this.#idle.splice(0)) this.#destroy(slot, "closed");
    }
    if (this.#isEmpty()) return;
    const done = new Promise<void>((resolve) => {
      const prev = this.#closeDone;
      this.#closeDone = () => {
        prev?.();
        resolve();
      };
    });
    const force = setTimeout(() => {
      for (const slot of [...this.#all]) {
        if (slot.lease) {
          this.#o.log?.warn(
            { event: "pool.close_forced", pool: this.name, id: slot.id, heldMs: Math.round(this.#o.now() - slot.acquiredAt) },
            `Pool "${this.name}": closing connection #${slot.id} that was still borrowed at shutdown.`,
          );
        }
        this.#destroy(slot, "closed");
      }
    }, options.forceAfterMs ?? 10_000);
    force.unref();
    await done;
    clearTimeout(force);
  }

  // ---- lending -------------------------------------------------------------------------

  #lend(slot: Slot<T>, now: number, waitedMs: number, stack: string | undefined): Lease<T> {
    const lease = new Lease(this.#owner, slot);
    slot.lease = lease;
    slot.acquiredAt = now;
    this.#stats.acquireWait.record(waitedMs);
    if (this.#o.leakDetectionThreshold > 0) {
      // The stack is captured only with leak detection on: new Error().stack costs microseconds.
      slot.stack = stack ?? acquirerStack();
      slot.leakTimer = setTimeout(() => this.#reportLeak(slot, lease), this.#o.leakDetectionThreshold);
      slot.leakTimer.unref();
    }
    if (acquireChannel.hasSubscribers) {
      acquireChannel.publish({ pool: this.name, id: slot.id, waitedMs, busy: this.busy, waiting: this.#waiting });
    }
    if (this.listenerCount("acquire") > 0) this.#emit("acquire", { id: slot.id, waitedMs });
    return lease;
  }

  /** Gives `slot` to the oldest live waiter; returns false when there is none. */
  #grantNext(slot: Slot<T>): boolean {
    for (let w = this.#waiters.shift(); w !== undefined; w = this.#waiters.shift()) {
      if (w.done) continue;
      this.#waiting--;
      const now = this.#o.now();
      w.grant(this.#lend(slot, now, now - w.startedAt, w.stack));
      return true;
    }
    return false;
  }

  #settle(slot: Slot<T>, destroyReason: unknown): void {
    slot.lease = undefined;
    const now = this.#o.now();
    const heldMs = now - slot.acquiredAt;
    this.#stats.usage.record(heldMs);
    if (slot.leakTimer) {
      clearTimeout(slot.leakTimer);
      slot.leakTimer = undefined;
      slot.stack = undefined;
    }
    if (this.listenerCount("release") > 0) this.#emit("release", { id: slot.id, heldMs });
    if (destroyReason !== undefined) {
      this.#stats.errors++;
      this.#destroy(slot, "broken", destroyReason);
    } else if (this.#closed) {
      this.#destroy(slot, "closed");
    } else if (slot.expiresAt <= now) {
      this.#destroy(slot, "lifetime");
    } else {
      slot.lastUsedAt = now;
      slot.lastCheckedAt = now;
      // Direct hand-off to the head of the queue: the resource was just in use, so no check is needed.
      if (this.#waiting > this.#readying && this.#grantNext(slot)) return;
      this.#idle.push(slot);
      return;
    }
    this.#pump();
  }

  // ---- the scheduler -------------------------------------------------------------------

  /** Matches idle resources to waiters, then opens resources for the waiters left and up to `min`. */
  #pump(): void {
    if (this.#closed) return;
    while (this.#waiting > this.#readying && this.#idle.length > 0) {
      const slot = this.#idle.pop() as Slot<T>;
      const now = this.#o.now();
      if (slot.expiresAt <= now) {
        this.#destroy(slot, "lifetime");
      } else if (this.#o.validate !== undefined && now - slot.lastCheckedAt > this.#o.validateAfterIdle) {
        this.#validateForWaiter(slot);
      } else if (!this.#grantNext(slot)) {
        this.#idle.push(slot);
        break;
      }
    }
    // While a create retry is scheduled, its timer calls pump again: no busy loop against a dead database.
    if (this.#opener.backingOff) return;
    const creating = this.#opener.inFlight;
    const open = this.#all.size + creating;
    const forWaiters = this.#waiting - this.#readying - creating;
    const forMin = this.#o.min - open;
    let want = Math.min(Math.max(forWaiters, forMin), this.#o.max - open);
    // After a failure, probe with one attempt at a time until one succeeds (HikariCP's single adder).
    if (this.#opener.consecutiveFailures > 0) want = Math.min(want, 1 - creating);
    for (let i = 0; i < want; i++) this.#opener.open();
  }

  #opened(resource: T, ms: number, after?: RecoveredAfter): void {
    if (after) {
      // The pair of pool.create_failed lines: when the database answered again, and after how long.
      this.#o.log?.info(
        { event: "pool.recovered", ...this.#facts(), failures: after.failures, failingMs: Math.round(after.failingMs), openMs: Math.round(ms) },
        `Pool "${this.name}": connected again after ${after.failures} failed attempt(s) over ${(after.failingMs / 1000).toFixed(1)} s.`,
      );
    }
    if (this.#closed) {
      this.#destroying++;
      void attempt(() => this.#o.destroy(resource)).finally(() => {
        this.#destroying--;
        this.#checkClosed();
      });
      return;
    }
    const now = this.#o.now();
    const lifetime = this.#o.maxLifetime;
    const slot: Slot<T> = {
      id: this.#nextId++,
      resource,
      createdAt: now,
      expiresAt: lifetime > 0 ? now + lifetime - Math.random() * lifetime * LIFETIME_JITTER : Number.POSITIVE_INFINITY,
      lastUsedAt: now,
      lastCheckedAt: now,
      lease: undefined,
      acquiredAt: 0,
      stack: undefined,
      leakTimer: undefined,
    };
    this.#all.add(slot);
    this.#stats.creates++;
    this.#emit("create", { id: slot.id, ms });
    if (!(this.#waiting > this.#readying && this.#grantNext(slot))) this.#idle.push(slot);
    this.#pump();
  }

  #openFailed(error: unknown, retryInMs: number): void {
    if (this.#closed) {
      this.#checkClosed();
      return;
    }
    const failures = this.#opener.consecutiveFailures;
    // One line per backoff step, not per parallel attempt.
    if (retryInMs > 0) {
      this.#o.log?.warn(
        { event: "pool.create_failed", ...this.#facts(), consecutiveFailures: failures, retryInMs, err: errorText(error) },
        `Pool "${this.name}": opening a connection failed (${errorText(error)}); attempt ${failures} in a row, retrying in ${retryInMs} ms.`,
      );
    }
    this.#emit("createError", { error, consecutiveFailures: failures, retryInMs });
  }

  #validateForWaiter(slot: Slot<T>): void {
    this.#readying++;
    this.#check(slot, "borrow", (ok) => {
      this.#readying--;
      if (ok && this.#closed) this.#destroy(slot, "closed");
      else if (ok) {
        slot.lastCheckedAt = this.#o.now();
        if (!(this.#waiting > this.#readying && this.#grantNext(slot))) this.#idle.push(slot);
      }
      this.#pump();
    });
  }

  /** Runs validate (borrow) or ping (keepalive), bounded by acquireTimeout; a failure destroys the slot. */
  #check(slot: Slot<T>, during: "borrow" | "keepalive", then: (ok: boolean) => void): void {
    const fn =
      during === "borrow"
        ? async () => {
            if (!(await (this.#o.validate as (r: T) => Promise<boolean> | boolean)(slot.resource))) throw new Error("validate() returned false");
          }
        : () => (this.#o.ping as (r: T) => Promise<unknown>)(slot.resource);
    withTimeout(attempt(fn), Math.max(this.#o.acquireTimeout, 1000)).then(
      () => then(true),
      (error: unknown) => {
        this.#stats.validationFailures++;
        this.#o.log?.warn(
          { event: "pool.validation_failed", pool: this.name, id: slot.id, during, err: errorText(error) },
          `Pool "${this.name}": connection #${slot.id} failed its ${during === "borrow" ? "check on borrow" : "keepalive ping"} (${errorText(error)}); replacing it.`,
        );
        this.#emit("validationFailed", { id: slot.id, error, during });
        this.#destroy(slot, during === "borrow" ? "validation" : "keepalive", error);
        then(false);
      },
    );
  }

  #destroy(slot: Slot<T>, reason: DestroyReason, error?: unknown): void {
    if (!this.#all.delete(slot)) return;
    this.#stats.destroys++;
    this.#destroying++;
    this.#emit("destroy", error === undefined ? { id: slot.id, reason } : { id: slot.id, reason, error });
    attempt(() => this.#o.destroy(slot.resource))
      .catch((err: unknown) => {
        this.#stats.errors++;
        this.#o.log?.warn(
          { event: "pool.destroy_failed", pool: this.name, id: slot.id, err: errorText(err) },
          `Pool "${this.name}": closing connection #${slot.id} failed (${errorText(err)}); it is dropped anyway.`,
        );
      })
      .finally(() => {
        this.#destroying--;
        this.#checkClosed();
      });
  }

  // ---- timeouts, leaks, housekeeping ---------------------------------------------------

  #onWaiterTimeout(w: Waiter<T>): HoldfastError {
    this.#waiting--;
    this.#stats.timeouts++;
    const waited = this.#o.now() - w.startedAt;
    const facts = this.#facts();
    // Nothing open and the last attempts failed: the database is the problem, not pool pressure.
    const failures = this.#opener.consecutiveFailures;
    const unreachable = this.#all.size === 0 && failures > 0;
    const err = unreachable
      ? unreachableError(facts, waited, failures, this.#opener.lastError)
      : poolTimeoutError(
          facts,
          waited,
          this.#o.acquireTimeout,
          w.cutByDeadline,
          poolDrain(facts, this.#stats.usage.typicalMs),
          failures > 0 ? this.#opener.lastError : undefined,
        );
    this.#o.log?.warn(
      {
        event: unreachable ? "db.unavailable" : "pool.timeout",
        ...facts,
        waitedMs: Math.round(waited),
        acquireTimeoutMs: this.#o.acquireTimeout,
        cutByDeadline: w.cutByDeadline,
      },
      err.message,
    );
    this.#emit("acquireError", err);
    // A timed-out waiter may have been the reason a create was pending; nothing else to undo.
    return err;
  }

  #onWaiterAborted(w: Waiter<T>, reason: unknown): HoldfastError {
    this.#waiting--;
    const err = abortedError(this.name, this.#o.now() - w.startedAt, reason);
    this.#o.log?.info({ event: "pool.wait_aborted", ...this.#facts(), waitedMs: Math.round(this.#o.now() - w.startedAt) }, err.message);
    return err;
  }

  #reportLeak(slot: Slot<T>, lease: Lease<T>): void {
    if (slot.lease !== lease) return;
    const threshold = this.#o.leakDetectionThreshold;
    const held = this.#o.now() - slot.acquiredAt;
    if (held < threshold) {
      // libuv arms timers from its cached loop time, so one may fire a millisecond early by this clock:
      // wait out the rest rather than report a lease held 49 ms as past a 50 ms threshold.
      slot.leakTimer = setTimeout(() => this.#reportLeak(slot, lease), Math.ceil(threshold - held));
      slot.leakTimer.unref();
      return;
    }
    this.#stats.leaks++;
    const heldMs = Math.floor(held);
    this.#o.log?.warn(
      { event: "pool.leak", ...this.#facts(), id: slot.id, heldMs, thresholdMs: threshold, stack: slot.stack },
      leakMessage(this.name, slot.id, heldMs, threshold),
    );
    this.#emit("leak", { id: slot.id, heldMs, stack: slot.stack });
  }

  /** Closes idle resources past idleTimeout (down to min) or maxLifetime, and pings idle ones due a keepalive. */
  #housekeep(): void {
    if (this.#closed) return;
    const now = this.#o.now();
    const settings = { ...this.#o, canPing: this.#o.ping !== undefined };
    // Oldest-returned first: the idle list is LIFO, so index 0 has waited longest.
    for (const slot of [...this.#idle]) {
      const due = dueMaintenance(slot, now, this.#all.size, settings);
      if (due === undefined) continue;
      this.#idle.splice(this.#idle.indexOf(slot), 1);
      if (due !== "ping") {
        this.#destroy(slot, due);
        continue;
      }
      this.#check(slot, "keepalive", (ok) => {
        // On failure #check has already destroyed the slot.
        if (ok && this.#closed) this.#destroy(slot, "closed");
        else if (ok) {
          slot.lastCheckedAt = this.#o.now();
          if (!(this.#waiting > this.#readying && this.#grantNext(slot))) this.#idle.push(slot);
        }
        this.#pump();
      });
    }
    this.#pump();
  }

  // ---- small helpers -------------------------------------------------------------------

  #facts(): PoolFacts {
    const size = this.#all.size;
    return { pool: this.name, size, busy: size - this.#idle.length, idle: this.#idle.length, waiting: this.#waiting, max: this.#o.max };
  }

  #isEmpty(): boolean {
    return this.#all.size === 0 && this.#opener.inFlight === 0 && this.#destroying === 0;
  }

  #checkClosed(): void {
    if (this.#closed && this.#closeDone && this.#isEmpty()) {
      const done = this.#closeDone;
      this.#closeDone = undefined;
      done();
    }
  }

  /** Emits without letting a listener's exception break the pool's bookkeeping. */
  #emit<K extends keyof PoolEvents>(event: K, ...args: PoolEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: PoolEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.#o.log?.error(
        { event: "pool.listener_failed", pool: this.name, poolEvent: event, err: errorText(err) },
        `A listener of pool event "${String(event)}" threw: ${errorText(err)}`,
      );
    }
  }
}
