/**
 * Percentiles over the most recent samples. Recording is one array write (hot path);
 * sorting happens only when status() is read, which is rare (admin endpoint, doctor).
 */
import type { LatencySummary } from "../types.js";

/** Samples kept per window: enough for stable p99, small enough to sort on every status(). */
const WINDOW = 2048;

/** Weight of the newest sample in {@link LatencyWindow.typicalMs}: about the last 20 samples count. */
const TYPICAL_WEIGHT = 0.05;

/** A fixed ring of the last {@link WINDOW} durations in milliseconds. */
export class LatencyWindow {
  readonly #samples = new Float64Array(WINDOW);
  #next = 0;
  #count = 0;
  #typical = 0;

  /** Adds one duration (ms). */
  record(ms: number): void {
    // A running average costs one multiply-add here, so an error path can read it without sorting the window.
    this.#typical = this.#count === 0 ? ms : this.#typical + (ms - this.#typical) * TYPICAL_WEIGHT;
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % WINDOW;
    this.#count++;
  }

  /** Exponentially weighted mean of recent durations in ms (0 before the first): what Retry-After's drain estimate reads. */
  get typicalMs(): number {
    return this.#typical;
  }

  /** p50/p95/p99/max over the window; count is every sample since the window was created. */
  summary(): LatencySummary {
    const n = Math.min(this.#count, WINDOW);
    if (n === 0) return { p50: 0, p95: 0, p99: 0, max: 0, count: 0 };
    const sorted = this.#samples.slice(0, n).sort();
    const at = (q: number) => round(sorted[Math.min(n - 1, Math.ceil(q * n) - 1)]);
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(sorted[n - 1]), count: this.#count };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
