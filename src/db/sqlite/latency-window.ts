/** Percentiles over the most recent samples (a fixed ring, so status() costs the same forever). */
import type { LatencySummary } from "../types.js";

/** A ring of the last `size` latency samples in ms. */
export class LatencyWindow {
  readonly #ring: Float64Array;
  #next = 0;
  #filled = 0;
  #count = 0;

  constructor(size = 2048) {
    this.#ring = new Float64Array(size);
  }

  /** Records one sample. */
  add(ms: number): void {
    this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#ring.length;
    if (this.#filled < this.#ring.length) this.#filled++;
    this.#count++;
  }

  /** p50/p95/p99/max over the window; count is every sample since start. */
  summary(): LatencySummary {
    if (this.#filled === 0) return { p50: 0, p95: 0, p99: 0, max: 0, count: 0 };
    const s = this.#ring.slice(0, this.#filled).sort();
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1] as number, count: this.#count };
  }
}
