/**
 * Admission control for one worker: route priority → event-loop guard → concurrency limit →
 * bounded CoDel/adaptive-LIFO queue → 503 OVERLOADED with Retry-After. A request is refused for
 * waiting only while the OverloadDetector sees a standing queue (a whole interval of waits above
 * target), never for one long wait: noise on a shared machine is not overload.
 *
 * The admitted fast path (a free slot, empty queue) is synchronous and allocates two small
 * objects (the result and the ticket). Everything that waits lives in the queue and is
 * resolved by `#pump()`, called after every change (release, limit change, sweep).
 */
import { performance } from "node:perf_hooks";
import type { Config } from "../../config/index.js";
import { errors, type HoldfastError } from "../../errors/index.js";
import { silentLogger, type Logger } from "../../telemetry/index.js";
import { AdmissionQueue, type QueueEntry } from "./admission-queue.js";
import { DrainRate } from "./drain-rate.js";
import { EventLoopGuard } from "./event-loop-guard.js";
import { GradientLimit, type GradientLimitOptions } from "./gradient-limit.js";
import { OverloadDetector } from "./overload-detector.js";
import { RoutePriorities } from "./route-priorities.js";
import type { AdmissionController, AdmissionRequest, AdmissionStatus, AdmissionTicket, AdmitResult, Priority, ShedReason } from "./types.js";

/** admission.* as parsed by the config schema (durations in ms). */
export type AdmissionOptions = Config["admission"];

/** Collaborators and tuning knobs that are not user configuration. */
export interface AdmissionDeps {
  /** Logger for state transitions (overload entered/left, limit changes at debug). */
  log?: Logger;
  /** Monotonic clock in ms; default performance.now. Injected by deterministic tests. */
  now?: () => number;
  /** Serve the queue LIFO under sustained overload (Facebook's adaptive LIFO). Default true. */
  adaptiveLifo?: boolean;
  /** Start the event-loop guard's sampling timer. Default true. */
  eventLoopGuard?: boolean;
  /** Sweep the queue on a timer while anyone waits. Default true; simulations call sweep() on their own clock. */
  sweepTimer?: boolean;
  /** Tuning passed to the adaptive limit (windows, probe interval). */
  limit?: Partial<Omit<GradientLimitOptions, "initial" | "min" | "max">>;
}

const REASON_TEXT: Record<ShedReason, string> = {
  limit: "The worker is at its concurrency limit and this route is shed first; retry after the Retry-After delay.",
  "queue-full": "The worker is at its concurrency limit and its wait queue is full; retry after the Retry-After delay.",
  "queue-delay": "The request waited in the admission queue longer than the overload target; retry after the Retry-After delay.",
  deadline: "The request could not finish within its deadline given the current queue; retry after the Retry-After delay.",
  "client-gone": "The client went away while the request was queued; it was never run.",
  "event-loop": "The worker's event loop is overloaded, so lower-priority requests are shed; retry after the Retry-After delay.",
};

/** Event-loop utilisation (smoothed over ~250 ms) above which the loop has no idle time to spare. */
const SATURATED_UTILIZATION = 0.9;

interface Waiter extends QueueEntry {
  readonly req: AdmissionRequest;
  /** Time it waited before admission saw it (X-Request-Start), ms, when the worker was saturated; else 0. */
  readonly hiddenMs: number;
  readonly resolve: (r: AdmitResult) => void;
  readonly onAbort: () => void;
}

/** Held by an admitted request; records when it started so the limit learns service time. */
class Ticket implements AdmissionTicket {
  readonly #c: Controller;
  readonly #start: number;
  readonly #epoch: number;
  /** False for a request admitted past the limit (a critical route): its run teaches the limit nothing. */
  readonly #counts: boolean;
  #released = false;

  constructor(c: Controller, start: number, epoch: number, counts: boolean) {
    this.#c = c;
    this.#start = start;
    this.#epoch = epoch;
    this.#counts = counts;
  }

  release(outcome: { latencyMs: number; ok: boolean }): void {
    if (this.#released) {
      this.#c.doubleRelease();
      return;
    }
    this.#released = true;
    this.#c.released(this.#start, this.#epoch, outcome.ok, this.#counts);
  }
}

/** The implementation behind createAdmissionController (exported for white-box tests). */
export class Controller implements AdmissionController {
  readonly mode: AdmissionOptions["mode"];
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #routes: RoutePriorities;
  readonly #limit: GradientLimit | undefined;
  readonly #fixedLimit: number;
  readonly #queue: AdmissionQueue<Waiter>;
  readonly #detector: OverloadDetector;
  readonly #guard: EventLoopGuard;
  readonly #drain: DrainRate;
  readonly #lifo: boolean;
  readonly #sweepMs: number;
  readonly #sweepTimerOn: boolean;
  #inflight = 0;
  #admitted = 0;
  #queueDelayMs = 0;
  readonly #shed: Record<ShedReason, number> = { limit: 0, "queue-full": 0, "queue-delay": 0, deadline: 0, "client-gone": 0, "event-loop": 0 };
  #sweepTimer: NodeJS.Timeout | undefined;
  /** When the queue was last swept (or its first waiter arrived): how late the next sweep is likely to be. */
  #lastSweepAt = 0;
  #overloaded = false;
  #overloadSince = 0;
  #shedAtOverloadStart = 0;

  constructor(o: AdmissionOptions, deps: AdmissionDeps = {}) {
    this.mode = o.mode;
    this.#now = deps.now ?? (() => performance.now());
    this.#log = deps.log ?? silentLogger();
    const now = this.#now();
    this.#routes = new RoutePriorities(o.routes);
    this.#fixedLimit = o.limit;
    if (o.mode === "adaptive") {
      // The slack is a quarter of the queue's target: a sub-millisecond service must not halve its
      // limit over 1 ms of queueing, but under overload the delay tolerated inside the app adds to
      // every admitted request's latency, so it stays well below what is tolerated in front of it.
      this.#limit = new GradientLimit({ initial: o.limit, min: o.minLimit, max: o.maxLimit, slackMs: o.queueTarget / 4, ...deps.limit }, now);
      this.#limit.onUpdate = (u) => this.#log.debug({ event: "admission.limit", ...u }, "adaptive concurrency limit updated");
    }
    this.#queue = new AdmissionQueue<Waiter>(o.queueSize);
    this.#detector = new OverloadDetector(o.queueTarget, o.queueInterval);
    this.#sweepMs = Math.max(2, Math.min(5, Math.floor(o.queueTarget / 4)));
    this.#lifo = deps.adaptiveLifo ?? true;
    this.#sweepTimerOn = deps.sweepTimer ?? true;
    this.#drain = new DrainRate(now);
    this.#guard = new EventLoopGuard({ delayMs: o.eventLoopDelay, utilization: o.eventLoopUtilization });
    if (o.mode !== "off" && (deps.eventLoopGuard ?? true)) this.#guard.start();
  }

  /** The enforced concurrency limit right now. */
  get limit(): number {
    if (this.mode === "off") return Number.POSITIVE_INFINITY;
    return this.#limit ? this.#limit.limit : this.#fixedLimit;
  }

  /** The event-loop guard (exposed so tests can drive its level). */
  get guard(): EventLoopGuard {
    return this.#guard;
  }

  admit(req: AdmissionRequest): AdmitResult | Promise<AdmitResult> {
    const now = this.#now();
    if (this.mode === "off") return this.#grant(now, 0);
    const priority: Priority = this.#routes.of(req.path);
    if (priority === "critical") return this.#grant(now, 0, false);
    if (this.#guard.dropProbability > 0 && this.#guard.sheds(priority === "sheddable")) return this.#reject("event-loop", now);
    // Time it waited before we even saw it (proxy, kernel, a busy loop) is part of its sojourn, but
    // only while this worker is saturated (at its limit, or its loop busy nearly all the time): an
    // idle worker reads its sockets at once, so a late request was held up before it — a busy
    // proxy, a stalled machine — and refusing it frees nothing here. A clock a minute off is not a queue.
    const receivedAt = req.receivedAt;
    const hiddenMs = receivedAt !== undefined && now - receivedAt > 0 && now - receivedAt < 60_000 && this.#saturated() ? now - receivedAt : 0;
    const overloaded = this.#detector.overloaded(now);
    if (overloaded && hiddenMs > this.#detector.maxWait(now)) {
      this.#detector.sample(now, hiddenMs);
      return this.#reject("queue-delay", now);
    }
    // `aborted` first: reading req.signal makes the request handler build its AbortController,
    // which cost more than the rest of admission together (4.5 µs of 5 per admit).
    if (req.aborted ?? req.signal.aborted) return this.#reject("client-gone", now);
    // Fast path: a free slot and nobody waiting ahead.
    if (this.#inflight < this.limit && this.#queue.length === 0) {
      this.#detector.sample(now, hiddenMs);
      return this.#grant(now, 0);
    }
    if (priority === "sheddable" || this.#queue.capacity === 0) return this.#reject("limit", now);
    const expected = this.#expectedServiceMs();
    if (req.deadline.remaining() < expected) return this.#reject("deadline", now);
    const lifoNow = this.#lifo && overloaded;
    // Under sustained overload, a queue longer than what drains within the target at the current
    // completion rate only holds requests that will be shed after waiting: refuse the newcomer now
    // instead (PIE's departure-rate estimate, RFC 8033), so a 503 takes no longer than the wait in
    // front of the worker. (Served LIFO the newcomer would run next, but only by pushing an older
    // waiter out after its wait; a fast 503 for the newcomer costs nobody anything.) Outside
    // overload a queue is a burst that drains, so it may stay.
    const rate = this.#drain.perSecond;
    if (overloaded && rate > 0 && ((this.#queue.length + 1) * 1000) / rate > this.#detector.maxWait(now) - hiddenMs) {
      this.#detector.sample(now, hiddenMs + this.#detector.target);
      return this.#reject("queue-delay", now);
    }
    if (this.#queue.length >= this.#queue.capacity) {
      // Under sustained overload the oldest waiter is the least likely to be useful: drop it for the new one.
      const oldest = lifoNow ? this.#queue.peekOldest() : undefined;
      if (!oldest) return this.#reject("queue-full", now);
      this.#dropWaiter(oldest, "queue-full", now);
    }
    return new Promise<AdmitResult>((resolve) => {
      const w: Waiter = {
        enqueuedAt: now,
        done: false,
        req,
        hiddenMs,
        resolve,
        onAbort: () => {
          if (w.done) return;
          this.#dropWaiter(w, "client-gone", this.#now());
        },
      };
      req.signal.addEventListener("abort", w.onAbort, { once: true });
      if (this.#queue.length === 0) this.#lastSweepAt = now;
      this.#queue.push(w);
      this.#armSweep();
    });
  }

  /** The worker itself is the bottleneck: every slot taken, or its event loop busy nearly all the time. */
  #saturated(): boolean {
    return this.#inflight >= this.limit || this.#guard.utilization >= SATURATED_UTILIZATION;
  }

  /** Latency a queued request should expect once admitted: the learned baseline, else 0. */
  #expectedServiceMs(): number {
    const b = this.#limit?.baselineMs;
    return b !== undefined && Number.isFinite(b) ? b : 0;
  }

  #grant(now: number, queuedMs: number, counts = true): AdmitResult {
    this.#inflight++;
    this.#admitted++;
    return { admitted: true, ticket: new Ticket(this, now, this.#limit ? this.#limit.epoch : 0, counts), queuedMs };
  }

  #overloadError(reason: ShedReason, now: number): HoldfastError {
    const queued = this.#queue.length;
    const retryAfter = this.#drain.retryAfter(now, this.#inflight + queued + 1);
    // A shed's stack trace says nothing useful and capturing it is the costliest part of the 503.
    const prev = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return errors.overloaded(REASON_TEXT[reason], {
        retryAfter,
        details: { reason, limit: this.limit, inflight: this.#inflight, queued },
      });
    } finally {
      Error.stackTraceLimit = prev;
    }
  }

  #reject(reason: ShedReason, now: number): AdmitResult {
    this.#shed[reason]++;
    return { admitted: false, reason, error: this.#overloadError(reason, now) };
  }

  #dropWaiter(w: Waiter, reason: ShedReason, now: number): void {
    this.#queue.remove(w);
    w.req.signal.removeEventListener("abort", w.onAbort);
    this.#noteDelay(now - w.enqueuedAt);
    w.resolve(this.#reject(reason, now));
  }

  #noteDelay(ms: number): void {
    this.#queueDelayMs = this.#queueDelayMs * 0.9 + ms * 0.1;
  }

  /**
   * Ticket.release lands here. A request admitted past the limit (`counts` false: a critical route)
   * is neither a latency sample nor a completion of the work the limit and the queue govern: a
   * health check answered in 0.1 ms, polled 40 times a second while overload held the limit at 2,
   * made most of a window's samples, the baseline fell to 0.1 ms and the limit stayed at 1 with
   * its service's slots idle (overload-admission.test.ts beside busy loops, 2026-12-01).
   */
  released(start: number, epoch: number, ok: boolean, counts: boolean): void {
    const now = this.#now();
    this.#inflight--;
    if (counts) this.#drain.completed(now);
    if (this.#limit) {
      this.#limit.overloaded = this.#detector.overloaded(now);
      this.#limit.throughputPerSecond = this.#drain.perSecond;
      if (counts) this.#limit.sample(now, now - start, this.#inflight + 1, ok, epoch);
      this.#limit.inflightChanged(this.#inflight);
    }
    if (this.#queue.length > 0) this.#pump(now);
  }

  /** A second release of one ticket: a bug in the caller, logged, never double-counted. */
  doubleRelease(): void {
    this.#log.warn({ event: "admission.double-release" }, "an admission ticket was released twice; the second release was ignored");
  }

  /**
   * True when a waiter has waited too long to run: its whole sojourn (in front of the worker +
   * queued) is past the detector's bound (half the target under sustained overload, the lenient
   * bound otherwise). Samples the detector with the waiter's sojourn either way.
   */
  #waitedTooLong(w: Waiter, now: number): boolean {
    const waited = now - w.enqueuedAt;
    const sojourn = w.hiddenMs + waited;
    this.#noteDelay(waited);
    this.#detector.sample(now, sojourn);
    // The bound counts the wait in front of the worker too (counted only while it was saturated):
    // a 503 must come back fast, and the client waited both.
    return sojourn > this.#detector.maxWait(now);
  }

  /** Runs waiters while there is room; sheds those that waited too long or cannot meet their deadline. */
  #pump(now: number): void {
    this.#noteOverload(now);
    const lifo = this.#lifo && this.#detector.overloaded(now);
    const expected = this.#expectedServiceMs();
    while (this.#inflight < this.limit && this.#queue.length > 0) {
      const w = this.#queue.take(lifo);
      if (!w) break;
      w.req.signal.removeEventListener("abort", w.onAbort);
      if (this.#waitedTooLong(w, now)) w.resolve(this.#reject("queue-delay", now));
      else if (w.req.deadline.remaining() < expected) w.resolve(this.#reject("deadline", now));
      else w.resolve(this.#grant(now, now - w.enqueuedAt));
    }
  }

  /** How often the queue is swept while anyone waits, ms. */
  get sweepMs(): number {
    return this.#sweepMs;
  }

  /**
   * Periodic check while anyone waits: sheds entries past their allowed wait even if nothing completes.
   * Outside overload a waiter is shed at this sweep when it would pass the lenient bound before the
   * next one (as far off as this one was from the last, at most two periods): shed at the first
   * sweep past the bound instead, a 503 came back up to a period plus the loop's delay late, and
   * the onset sheds at 1× load were the slowest 503s of bench:overload (waits of 41–49 ms recorded
   * against a bound of 40, 503 p99 at the client 50–70 ms). Under overload the bound is already
   * half the target and those 503s are fast.
   */
  sweep(): void {
    const now = this.#now();
    const gap = Math.min(now - this.#lastSweepAt, 2 * this.#sweepMs);
    this.#lastSweepAt = now;
    const head = this.#queue.peekOldest();
    if (head) this.#detector.headAge(now, now - head.enqueuedAt);
    this.#noteOverload(now);
    const expected = this.#expectedServiceMs();
    const bound = this.#detector.overloaded(now) ? this.#detector.maxWait(now) : this.#detector.maxWait(now) - gap;
    // Oldest first: once the oldest is within bounds, everyone behind it is younger.
    for (let w = this.#queue.peekOldest(); w; w = this.#queue.peekOldest()) {
      const waited = now - w.enqueuedAt;
      const tooLong = w.hiddenMs + waited > bound;
      if (tooLong) {
        this.#detector.sample(now, w.hiddenMs + waited);
        this.#dropWaiter(w, "queue-delay", now);
      } else if (w.req.deadline.remaining() < expected) this.#dropWaiter(w, "deadline", now);
      else break;
    }
    if (this.#queue.length > 0) this.#pump(now);
  }

  #armSweep(): void {
    if (this.#sweepTimer || !this.#sweepTimerOn) return;
    this.#sweepTimer = setInterval(() => {
      this.sweep();
      if (this.#queue.length === 0 && this.#sweepTimer) {
        clearInterval(this.#sweepTimer);
        this.#sweepTimer = undefined;
        this.#noteOverload(this.#now());
      }
    }, this.#sweepMs);
    this.#sweepTimer.unref();
  }

  /** Logs entering and leaving sustained overload (once per transition, not per request). */
  #noteOverload(now: number): void {
    const over = this.#detector.overloaded(now);
    if (over === this.#overloaded) return;
    this.#overloaded = over;
    const shedTotal = this.#shedTotal();
    if (over) {
      this.#overloadSince = now;
      this.#shedAtOverloadStart = shedTotal;
      this.#log.warn(
        { event: "admission.overload", limit: this.limit, inflight: this.#inflight, queued: this.#queue.length },
        "sustained overload: every request waited longer than the queue target for a whole interval; serving newest first and shedding waits past the target",
      );
    } else {
      this.#log.info(
        { event: "admission.recovered", durationMs: Math.round(now - this.#overloadSince), shed: shedTotal - this.#shedAtOverloadStart, limit: this.limit },
        "overload over: no request waited past the queue target for a whole interval",
      );
    }
  }

  #shedTotal(): number {
    let n = 0;
    for (const k in this.#shed) n += this.#shed[k as ShedReason];
    return n;
  }

  status(): AdmissionStatus {
    const now = this.#now();
    const head = this.#queue.peekOldest();
    const limit = this.limit;
    return {
      mode: this.mode,
      limit: Number.isFinite(limit) ? limit : 0,
      inflight: this.#inflight,
      queued: this.#queue.length,
      overloaded: this.#detector.overloaded(now),
      queueDelayMs: Math.round(Math.max(this.#queueDelayMs, head ? now - head.enqueuedAt : 0) * 10) / 10,
      shed: { ...this.#shed },
      admitted: this.#admitted,
      eventLoopDelayMs: Math.round(this.#guard.delayMs * 10) / 10,
      eventLoopUtilization: Math.round(this.#guard.utilization * 1000) / 1000,
    };
  }

  ready(): void {
    this.#guard.reset();
  }

  close(): void {
    this.#guard.stop();
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }
}
