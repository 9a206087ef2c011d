/**
 * The request-duration histogram scraped from /metrics, and what one interval of it says:
 * requests by status code and latency quantiles computed from the bucket deltas between
 * two scrapes (the same interpolation as PromQL's histogram_quantile).
 */
import type { PromSample } from "./prometheus-text.js";

/** The histogram the workers export (OpenTelemetry semantic-convention name). */
const REQUEST_HISTOGRAM = "http_server_request_duration_seconds";

/** One labelled series of the histogram: cumulative counts per upper bound (seconds). */
export interface HistogramSeries {
  method: string;
  status: string;
  /** Upper bounds, ascending, ending with +Inf. */
  le: number[];
  /** Cumulative counts aligned with `le`. */
  cumulative: number[];
  count: number;
  sum: number;
}

/** A scrape of the histogram: series keyed by `method status`. */
export type RequestHistogram = Map<string, HistogramSeries>;

/** Requests finished within an interval (or a window of intervals), with their latency buckets. */
export interface RequestDelta {
  requests: number;
  /** Requests by HTTP status code ("200", "503", …). */
  byStatus: Record<string, number>;
  /** Shared upper bounds (seconds) for `buckets`; empty when no latency data. */
  le: number[];
  /** Non-cumulative counts per bucket. */
  buckets: number[];
  sumS: number;
}

/** Picks the request histogram out of parsed samples. */
export function extractRequestHistogram(samples: readonly PromSample[]): RequestHistogram {
  const out: RequestHistogram = new Map();
  const get = (s: PromSample): HistogramSeries => {
    const method = s.labels.http_request_method ?? "";
    const status = s.labels.http_response_status_code ?? "";
    const key = `${method} ${status}`;
    let series = out.get(key);
    if (!series) {
      series = { method, status, le: [], cumulative: [], count: 0, sum: 0 };
      out.set(key, series);
    }
    return series;
  };
  for (const s of samples) {
    if (s.name === `${REQUEST_HISTOGRAM}_bucket`) {
      const le = s.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(s.labels.le);
      if (Number.isNaN(le)) continue;
      const series = get(s);
      series.le.push(le);
      series.cumulative.push(s.value);
    } else if (s.name === `${REQUEST_HISTOGRAM}_count`) get(s).count = s.value;
    else if (s.name === `${REQUEST_HISTOGRAM}_sum`) get(s).sum = s.value;
  }
  for (const series of out.values()) {
    const order = series.le.map((_, i) => i).sort((a, b) => series.le[a] - series.le[b]);
    series.le = order.map((i) => series.le[i]);
    series.cumulative = order.map((i) => series.cumulative[i]);
  }
  return out;
}

/** An empty delta. */
export function emptyDelta(): RequestDelta {
  return { requests: 0, byStatus: {}, le: [], buckets: [], sumS: 0 };
}

function addBuckets(into: RequestDelta, le: readonly number[], counts: readonly number[]): void {
  if (into.le.length === 0) {
    into.le = [...le];
    into.buckets = new Array(le.length).fill(0);
  }
  // Series normally share bounds; a bound we do not know is folded into the next larger known one.
  for (let i = 0; i < le.length; i++) {
    let j = into.le.findIndex((b) => b >= le[i]);
    if (j < 0) j = into.le.length - 1;
    into.buckets[j] += counts[i];
  }
}

/**
 * What happened between two scrapes. A series whose count went down was reset (a worker
 * exited and its counts left the aggregate); like PromQL's rate(), its current value is
 * then taken as the increase. That undercounts the lost worker's last requests, never invents any.
 */
export function diffHistograms(prev: RequestHistogram | undefined, cur: RequestHistogram): RequestDelta {
  const d = emptyDelta();
  for (const [key, c] of cur) {
    const p = prev?.get(key);
    const reset = !p || c.count < p.count || p.le.length !== c.le.length;
    const count = reset ? c.count : c.count - p.count;
    if (count <= 0) continue;
    d.requests += count;
    d.byStatus[c.status] = (d.byStatus[c.status] ?? 0) + count;
    d.sumS += reset ? c.sum : Math.max(0, c.sum - p.sum);
    const cum = c.cumulative.map((v, i) => (reset ? v : Math.max(0, v - p.cumulative[i])));
    addBuckets(
      d,
      c.le,
      cum.map((v, i) => Math.max(0, v - (i > 0 ? cum[i - 1] : 0))),
    );
  }
  return d;
}

/** Sums deltas (intervals of a window, or instances into a total). */
export function sumDeltas(deltas: readonly RequestDelta[]): RequestDelta {
  const out = emptyDelta();
  for (const d of deltas) {
    out.requests += d.requests;
    out.sumS += d.sumS;
    for (const [k, v] of Object.entries(d.byStatus)) out.byStatus[k] = (out.byStatus[k] ?? 0) + v;
    if (d.le.length) addBuckets(out, d.le, d.buckets);
  }
  return out;
}

/** Requests whose status code starts with `prefix` ("5" for 5xx, "503" for exactly 503). */
export function countStatus(d: RequestDelta, prefix: string): number {
  let n = 0;
  for (const [k, v] of Object.entries(d.byStatus)) if (k.startsWith(prefix)) n += v;
  return n;
}

/**
 * The q-quantile (0..1) in milliseconds, interpolated linearly inside its bucket as
 * histogram_quantile does; undefined with no requests. A quantile in the +Inf bucket is
 * reported as the largest finite bound (the true value is at least that).
 */
export function quantileMs(d: RequestDelta, q: number): number | undefined {
  const total = d.buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < d.buckets.length; i++) {
    const n = d.buckets[i];
    if (seen + n >= rank && n > 0) {
      const upper = d.le[i];
      const lower = i > 0 ? d.le[i - 1] : 0;
      if (!Number.isFinite(upper)) return lower * 1000;
      return (lower + (upper - lower) * ((rank - seen) / n)) * 1000;
    }
    seen += n;
  }
  const lastFinite = [...d.le].reverse().find((b) => Number.isFinite(b)) ?? 0;
  return lastFinite * 1000;
}
