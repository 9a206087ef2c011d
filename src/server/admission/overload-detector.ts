/**
 * Is this worker overloaded, or only noisy? The one decision every shed rests on.
 *
 * A request's *sojourn* is how long it waited before it could start: in front of the worker (the
 * proxy, the kernel's socket buffers, a busy event loop — known from X-Request-Start) plus in the
 * admission queue. Following CoDel (RFC 8289 §§3–4), one long wait proves nothing: a scheduler
 * stall on a shared machine, a GC pause or a burst delays a handful of requests and is gone a
 * moment later. Overload is a *standing* queue: every request that started during a whole
 * `interval` had waited longer than `target`. Two more facts count as overload evidence:
 *   - the oldest waiter in the admission queue has waited a whole interval (nothing starts, so
 *     there are no samples to look at);
 *   - while overloaded, any request that waited past the overloaded bound (half the target, see
 *     maxWait: every request shed for waiting) renews the state, so it holds as long as the queue
 *     keeps forming and ends a hold after the last such wait.
 * Outside overload a request is never refused on arrival for a long wait in front of the worker;
 * once queued, its whole wait (in front of a saturated worker + queued) may reach the lenient
 * bound (maxWait).
 */

/**
 * Overload mode lasts this long after its last evidence (at least one interval). Under sustained
 * overload the evidence comes and goes — LIFO serves fresh requests with short waits, a moment of
 * lighter arrivals empties the queue — and every exit costs a new onset, an interval in which
 * requests wait up to the lenient bound before the first shed. Holding a second keeps one
 * overload one episode; its cost after the load really fell is that waits past target are still
 * shed for that second, while the queue is short anyway.
 */
const HOLD_MS = 1000;

/** CoDel's standing-queue rule over request sojourn times (see the file comment). */
export class OverloadDetector {
  /** Acceptable standing delay, ms (admission.queueTarget). */
  readonly target: number;
  /** How long the delay must stand before it is overload, ms (admission.queueInterval). */
  readonly interval: number;
  /** Start of the current unbroken run of sojourns above target; NaN when the last was below. */
  #aboveSince = Number.NaN;
  /** Last time overload evidence was seen. */
  #seenAt = Number.NEGATIVE_INFINITY;

  /** How long overload lasts after its last evidence, ms. */
  readonly hold: number;

  constructor(target: number, interval: number) {
    this.target = target;
    this.interval = Math.max(1, interval);
    this.hold = Math.max(this.interval, HOLD_MS);
  }

  /** A request started, or was shed, after waiting `sojournMs` in all. */
  sample(now: number, sojournMs: number): void {
    // Once overloaded, waits are cut at half the target, so hardly any reaches the target: a wait
    // past that cut (every shed for waiting) is what shows the queue still stands. Renewing only
    // above the target ended a sustained 4x overload every 1-2 s, and each new onset let waits
    // grow to the lenient bound again for an interval (test/overload-admission: 4 exits in 5 s,
    // 503 p99 44 ms against 10 ms + a sweep).
    if (this.overloaded(now) && sojournMs > this.maxWait(now)) this.#seenAt = now;
    if (sojournMs <= this.target) {
      this.#aboveSince = Number.NaN;
      return;
    }
    if (Number.isNaN(this.#aboveSince)) this.#aboveSince = now;
    if (this.overloaded(now) || now - this.#aboveSince >= this.interval) this.#seenAt = now;
  }

  /** The oldest waiter in the admission queue has waited `ageMs`: a queue nobody leaves gives no samples. */
  headAge(now: number, ageMs: number): void {
    if (ageMs >= this.interval) this.#seenAt = now;
  }

  /** True from the first evidence of a standing queue until one interval after the last. */
  overloaded(now: number): boolean {
    return now - this.#seenAt < this.hold;
  }

  /**
   * How long a request may wait (in front of a saturated worker + queued) before it is shed: half
   * the target when overloaded, as Facebook's adaptive LIFO + CoDel cuts its queue timeout from N
   * to a short M once the queue stands — everything an admitted request waited adds to its
   * latency, and at 4× the queue is never short of fresher requests (bench:overload, 20 s at 4×,
   * two runs each, minLimit 1 and a since withdrawn catch-up of the limit: admitted p99 58–59 ms at
   * half the target against 65–68 ms at the target, goodput the same, 503 p99 17–22 against 28 ms). Otherwise twice target (capped at the
   * interval), so a burst may queue but a 503 stays fast.
   * (The queue only forms when every slot is taken, and the adaptive limit does not shrink at
   * light load, so this bound is reached by a burst at the limit, not by a slow moment.)
   */
  maxWait(now: number): number {
    return this.overloaded(now) ? this.target / 2 : Math.min(this.interval, 2 * this.target);
  }
}
