/**
 * Event-loop guard: sheds before the worker's event loop is saturated, graded by priority.
 *
 * @fastify/under-pressure answers 503 to everything once one threshold is crossed; here the
 * answer depends on how far past it the loop is: level 1 (delay above the threshold, or
 * utilisation above its threshold) sheds `sheddable` routes, level 2 (delay above twice the
 * threshold) sheds `normal` ones too; `critical` routes are never shed.
 * The level is computed on a timer, so admit() reads one integer.
 */
import { type IntervalHistogram, monitorEventLoopDelay, performance, type EventLoopUtilization } from "node:perf_hooks";

/** Options of {@link EventLoopGuard}. */
export interface EventLoopGuardOptions {
  /** Delay threshold, ms (admission.eventLoopDelay); 0 = off. */
  delayMs: number;
  /** Utilisation threshold 0..1 (admission.eventLoopUtilization); 0 = off. */
  utilization: number;
  /** Sampling period, ms. Default 100. */
  sampleMs?: number;
}

/** 0 = fine, 1 = shed sheddable, 2 = shed everything but critical. */
export type GuardLevel = 0 | 1 | 2;

/** Samples event-loop delay and utilisation and keeps a shedding level. */
export class EventLoopGuard {
  level: GuardLevel = 0;
  /** Worst event-loop delay in the last sample period, ms. */
  delayMs = 0;
  /** Smoothed event-loop utilisation, 0..1. */
  utilization = 0;
  readonly #o: EventLoopGuardOptions;
  #hist: IntervalHistogram | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastElu: EventLoopUtilization | undefined;

  constructor(o: EventLoopGuardOptions) {
    this.#o = o;
  }

  /** Starts sampling (a no-op when both thresholds are 0 and nothing needs reporting). */
  start(): void {
    if (this.#timer) return;
    this.#hist = monitorEventLoopDelay({ resolution: 10 });
    this.#hist.enable();
    this.#lastElu = performance.eventLoopUtilization();
    this.#timer = setInterval(() => this.tick(), this.#o.sampleMs ?? 100);
    this.#timer.unref();
  }

  /** Takes one sample; public so tests can drive it. */
  tick(): void {
    if (this.#hist) {
      // The histogram counts from the timer's expected firing, so its max is the worst stall.
      this.delayMs = Number.isFinite(this.#hist.max) ? Math.max(0, this.#hist.max / 1e6 - 10) : 0;
      this.#hist.reset();
    }
    if (this.#lastElu) {
      const now = performance.eventLoopUtilization();
      const d = performance.eventLoopUtilization(now, this.#lastElu);
      this.#lastElu = now;
      // ~1 s of smoothing at 100 ms samples: one busy tick must not shed.
      this.utilization = this.utilization * 0.8 + d.utilization * 0.2;
    }
    this.level = this.evaluate(this.delayMs, this.utilization);
  }

  /** The level for a given delay and utilisation (pure; the grading rule in one place). */
  evaluate(delayMs: number, utilization: number): GuardLevel {
    const { delayMs: t, utilization: u } = this.#o;
    if (t > 0 && delayMs > 2 * t) return 2;
    if ((t > 0 && delayMs > t) || (u > 0 && utilization > u)) return 1;
    return 0;
  }

  /** Stops sampling. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#hist?.disable();
    this.#hist = undefined;
  }
}
