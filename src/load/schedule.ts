/**
 * The open loop's send times: one constant rate, or stages of constant rates one after another
 * (k6's `stages`, as steps: each stage holds its rate for its duration). Request i's offset from
 * the start is computed, never accumulated, so rounding never drifts the schedule.
 */
import type { Stage } from "./types.js";

interface Segment {
  first: number;
  count: number;
  t0: number;
  interval: number;
}

/** Send times of an open-loop run. */
export class Schedule {
  readonly total: number;
  readonly durationMs: number;
  readonly #segments: Segment[] = [];
  #cursor = 0;

  constructor(stages: readonly Stage[]) {
    let first = 0;
    let t0 = 0;
    for (const s of stages) {
      if (!(s.rate >= 0) || !(s.durationMs > 0))
        throw new RangeError(`a stage needs a rate of 0 or more and a duration above 0 (got rate ${s.rate}, ${s.durationMs} ms)`);
      const count = Math.floor((s.rate * s.durationMs) / 1000);
      if (count > 0) this.#segments.push({ first, count, t0, interval: 1000 / s.rate });
      first += count;
      t0 += s.durationMs;
    }
    this.total = first;
    this.durationMs = t0;
  }

  /** Offset from the start (ms) at which request `i` is due; calls come in increasing `i`. */
  at(i: number): number {
    let seg = this.#segments[this.#cursor] as Segment;
    while (i >= seg.first + seg.count && this.#cursor < this.#segments.length - 1) seg = this.#segments[++this.#cursor] as Segment;
    return seg.t0 + (i - seg.first) * seg.interval;
  }
}
