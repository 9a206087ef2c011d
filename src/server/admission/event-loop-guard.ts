/**
 * Event-loop guard: sheds before the worker's event loop is saturated, graded by priority.
 *
 * Why it exists: a CPU-bound worker's real queue is not in admission control but in its
 * sockets, requests that arrived and wait for the loop to parse them. Admission never sees
 * them, but the event loop's delay grows with them (each loop iteration takes longer). So the
 * guard keeps a drop probability `p`, adjusted every sample like PIE (RFC 8033) adjusts its
 * drop probability from queueing delay: up while the loop's delay is above the threshold (faster
 * the further above), down while it is well below. Shedding is graded, not all-or-nothing
 * as in @fastify/under-pressure: `sheddable` routes are shed with probability min(1, 2p),
 * `normal` ones with max(0, 2p − 1), so sheddable traffic is gone entirely before any normal
 * request is refused; `critical` routes never. Utilisation above its threshold raises `p` in
 * steps too: a loop at 100 % has a hidden backlog whose size it cannot measure.
 * The sample runs on a timer, so admit() reads two numbers.
 */
import { type EventLoopUtilization, type IntervalHistogram, monitorEventLoopDelay, performance } from "node:perf_hooks";

/** Options of {@link EventLoopGuard}. */
export interface EventLoopGuardOptions {
  /** Delay threshold, ms (admission.eventLoopDelay); 0 = off. */
  delayMs: number;
  /** Utilisation threshold 0..1 (admission.eventLoopUtilization); 0 = off. */
  utilization: number;
  /** Sampling period, ms. Default 50. */
  sampleMs?: number;
}

/** 0 = fine, 1 = shedding sheddable routes, 2 = shedding normal routes too. */
export type GuardLevel = 0 | 1 | 2;

const RESOLUTION_MS = 10;

/**
 * The PIE-style update of the drop probability, pure so the rule is testable: `delayMs` is this
 * sample's typical loop delay, `prevDelayMs` the previous one, `elu` smoothed utilisation.
 */
export function nextDropProbability(p: number, delayMs: number, prevDelayMs: number, elu: number, o: EventLoopGuardOptions): number {
  const t = o.delayMs;
  const u = o.utilization;
  let next = p;
  if (t > 0 && delayMs > t) {
    // Above target: raise, faster the further above and when still growing.
    const over = Math.min(4, (delayMs - t) / t);
    const trend = Math.max(0, (delayMs - prevDelayMs) / t);
    next = p + 0.04 + 0.08 * over + 0.04 * Math.min(2, trend);
  } else if (u > 0 && elu > u) {
    // Saturated: the backlog is growing in the sockets where nobody can see it. Utilisation
    // saturates at 1, so it cannot say by how much: step up until it falls back under.
    next = p + 0.06;
  } else if ((t <= 0 || delayMs < t / 2) && (u <= 0 || elu < u - 0.05)) {
    // Clearly below both: give back slowly, so shedding does not flap at the threshold.
    next = p * 0.97 - 0.002;
  }
  return Math.min(1, Math.max(0, next));
}

/** Samples event-loop delay and utilisation and keeps a graded drop probability. */
export class EventLoopGuard {
  /** Drop probability 0..1 (see the file comment for how it maps to priorities). */
  dropProbability = 0;
  /** Typical (median) event-loop delay in the last sample period, ms. */
  delayMs = 0;
  /** Smoothed event-loop utilisation, 0..1. */
  utilization = 0;
  readonly #o: EventLoopGuardOptions;
  #hist: IntervalHistogram | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastElu: EventLoopUtilization | undefined;
  #lastTick: number | undefined;

  constructor(o: EventLoopGuardOptions) {
    this.#o = o;
  }

  /** 0, 1 or 2, for status and logs. */
  get level(): GuardLevel {
    return this.dropProbability <= 0 ? 0 : this.dropProbability <= 0.5 ? 1 : 2;
  }

  /** Sets the level directly (tests): 0 → p 0, 1 → p 0.5 (all sheddable), 2 → p 1 (all non-critical). */
  set level(l: GuardLevel) {
    this.dropProbability = l === 0 ? 0 : l === 1 ? 0.5 : 1;
  }

  /** Starts sampling. */
  start(): void {
    if (this.#timer) return;
    this.#hist = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.#hist.enable();
    this.#lastElu = performance.eventLoopUtilization();
    this.#timer = setInterval(() => this.tick(), this.#o.sampleMs ?? 50);
    this.#timer.unref();
  }

  /** Takes one sample; public so tests can drive it. */
  tick(): void {
    const prev = this.delayMs;
    if (this.#hist) {
      // The histogram records each 10 ms timer's lateness plus the 10 ms itself; the median is the
      // typical loop iteration, robust to a single GC pause.
      const p50 = this.#hist.count > 0 ? this.#hist.percentile(50) / 1e6 : 0;
      // The median misses a loop that alternates one very long iteration (hundreds of requests
      // read from a socket backlog) with a few short ones; this tick's own lateness does not.
      const now = performance.now();
      const late = this.#lastTick === undefined ? 0 : now - this.#lastTick - (this.#o.sampleMs ?? 50);
      this.#lastTick = now;
      this.delayMs = Math.max(0, p50 - RESOLUTION_MS, late);
      this.#hist.reset();
    }
    if (this.#lastElu) {
      const now = performance.eventLoopUtilization();
      const d = performance.eventLoopUtilization(now, this.#lastElu);
      this.#lastElu = now;
      // ~0.25 s of smoothing at 50 ms samples: one busy tick must not shed, a busy quarter second must.
      this.utilization = this.utilization * 0.7 + d.utilization * 0.3;
    }
    this.dropProbability = nextDropProbability(this.dropProbability, this.delayMs, prev, this.utilization, this.#o);
  }

  /** True when a request of this priority should be shed now (a coin flip at the current probability). */
  sheds(sheddable: boolean): boolean {
    const p = this.dropProbability;
    if (p <= 0) return false;
    const q = sheddable ? 2 * p : 2 * p - 1;
    return q >= 1 || (q > 0 && Math.random() < q);
  }

  /** Forgets everything seen so far (start-up: loading the app blocks the loop, and that is not overload). */
  reset(): void {
    this.dropProbability = 0;
    this.delayMs = 0;
    this.utilization = 0;
    this.#hist?.reset();
    this.#lastTick = undefined;
    if (this.#lastElu) this.#lastElu = performance.eventLoopUtilization();
  }

  /** Stops sampling. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#hist?.disable();
    this.#hist = undefined;
  }
}
