/**
 * The monitor's pure core: scrapes in, a frame to draw and alert transitions out.
 * One Monitor per run; it keeps each instance's history and every alert's state.
 */
import { evaluateRules } from "./alert-rules.js";
import { AlertBook } from "./alert-state.js";
import { InstanceTracker, ratesFrom } from "./instance-tracker.js";
import type { DashboardModel } from "./render-dashboard.js";
import { sumDeltas } from "./request-histogram.js";
import type { Thresholds } from "./thresholds.js";
import type { AlertTransition, Scrape } from "./types.js";

/** The result of one tick. */
export interface Tick {
  model: DashboardModel;
  transitions: AlertTransition[];
}

/** Tracks a fixed set of admin endpoints and their alerts. */
export class Monitor {
  readonly #trackers: InstanceTracker[];
  readonly #book: AlertBook;
  readonly #t: Thresholds;
  readonly #intervalMs: number;

  /** `targets` are admin URLs; `intervalMs` is only shown. */
  constructor(targets: readonly string[], thresholds: Thresholds, intervalMs: number) {
    this.#t = thresholds;
    this.#intervalMs = intervalMs;
    this.#trackers = targets.map((t) => new InstanceTracker(t, thresholds.windowMs));
    this.#book = new AlertBook(thresholds.forMs, thresholds.resolveForMs);
  }

  /** Feeds one scrape per target (same order as the constructor's targets) taken at `now`. */
  tick(scrapes: readonly Scrape[], now: number): Tick {
    const instances = this.#trackers.map((tr, i) => tr.update(scrapes[i]));
    const results = instances.flatMap((v) => evaluateRules(v, this.#t));
    const transitions = this.#book.apply(results, now);
    const withRates = this.#trackers.map((tr, i) => (instances[i].interval ? tr.lastDelta() : undefined));
    const last = withRates.filter((d) => d !== undefined);
    const total = last.length
      ? ratesFrom(
          sumDeltas(last.map((d) => d.delta)),
          last.reduce((a, d) => a + d.shed, 0),
          last.reduce((a, d) => a + d.seconds, 0) / last.length,
          instances.some((v) => v.interval?.source === "status") ? "status" : "metrics",
          // The rows' own request rates add up to the total, so TOTAL never disagrees with them.
          instances.reduce((a, v) => a + (v.interval?.requestsPerS ?? 0), 0),
        )
      : undefined;
    return { model: { at: now, intervalMs: this.#intervalMs, instances, total, alerts: this.#book.alerts() }, transitions };
  }

  /** The last interval's request delta of the `index`th target (undefined before two scrapes). */
  lastDelta(index: number): ReturnType<InstanceTracker["lastDelta"]> {
    return this.#trackers[index]?.lastDelta();
  }

  /** True while any alert fires. */
  anyFiring(): boolean {
    return this.#book.anyFiring();
  }
}
