/** Latency recording on an HDR histogram (hdr-histogram-js), microsecond resolution, 3 significant digits. */
import * as hdr from "hdr-histogram-js";

/**
 * Percentiles of one histogram, in milliseconds. Always p50, p90, p95, p99 and p999 (99.9);
 * other percentiles asked for by an SLO appear as `p<N>` with the dot written `_` (p97_5).
 */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  [percentile: string]: number;
}

/** The summary key of a percentile: 99.9 → "p999" (the usual name), 97.5 → "p97_5", 95 → "p95". */
export function percentileKey(p: number): string {
  if (p === 99.9) return "p999";
  return `p${String(p).replace(".", "_")}`;
}

/** One latency distribution. */
export class LatencyHistogram {
  readonly #h = hdr.build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });

  /** Records one latency in ms (kept at 1 µs resolution). */
  record(ms: number): void {
    this.#h.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.#h.totalCount;
  }

  /** Latency at a percentile (0–100), ms. */
  percentile(p: number): number {
    return this.#h.totalCount === 0 ? 0 : this.#h.getValueAtPercentile(p) / 1000;
  }

  /** Adds every value of `other` to this one. */
  add(other: LatencyHistogram): void {
    this.#h.add(other.#h);
  }

  /** The usual percentiles plus `extra` ones (0–100), ms, rounded to 0.01. */
  summary(extra: readonly number[] = []): LatencySummary {
    const r = (v: number) => Math.round(v * 100) / 100;
    const n = this.#h.totalCount;
    const s: LatencySummary = {
      count: n,
      mean: n === 0 ? 0 : r(this.#h.mean / 1000),
      p50: r(this.percentile(50)),
      p90: r(this.percentile(90)),
      p95: r(this.percentile(95)),
      p99: r(this.percentile(99)),
      p999: r(this.percentile(99.9)),
      max: n === 0 ? 0 : r(this.#h.maxValue / 1000),
    };
    for (const p of extra) s[percentileKey(p)] = r(this.percentile(p));
    return s;
  }
}
