/** Gathers per-request outcomes into the counts, histograms and per-second timeline of a {@link LoadResult}. */
import { LatencyHistogram } from "./latency-histogram.js";
import type { LoadResult, TimelinePoint } from "./types.js";

/** One second's tallies. */
class Second {
  sent = 0;
  completed = 0;
  /** By numeric code: no string built per response on the hot path. */
  readonly status = new Map<number, number>();
  errors = 0;
  readonly latency = new LatencyHistogram();
}

/** Mutable tallies of one run; times are `performance.now()` values. */
export class Collector {
  readonly all = new LatencyHistogram();
  readonly ok = new LatencyHistogram();
  readonly byStatus = new Map<number, LatencyHistogram>();
  readonly lag = new LatencyHistogram();
  readonly status = new Map<number, number>();
  readonly errors = new Map<string, number>();
  readonly #seconds: Second[] = [];
  readonly #start: number;
  sent = 0;
  completed = 0;
  clientQueued = 0;
  /** 5xx answers plus connection errors, for the progress line. */
  failed = 0;

  /** `start` is the run's time origin (performance.now()). */
  constructor(start: number = performance.now()) {
    this.#start = start;
  }

  #second(at: number): Second {
    // The epsilon keeps a request due exactly on a second boundary (start + 1000) in that second
    // despite floating-point subtraction giving 999.9999….
    const i = Math.max(0, Math.floor((at - this.#start) / 1000 + 1e-9));
    while (this.#seconds.length <= i) this.#seconds.push(new Second());
    return this.#seconds[i] as Second;
  }

  /** A request was sent (its scheduled time, open loop). */
  markSent(at: number): void {
    this.sent++;
    this.#second(at).sent++;
  }

  /** A response arrived at `at`, `latencyMs` after the request's scheduled time. */
  response(code: number, latencyMs: number, at: number = performance.now()): void {
    this.completed++;
    if (code >= 500) this.failed++;
    this.status.set(code, (this.status.get(code) ?? 0) + 1);
    this.all.record(latencyMs);
    if (code >= 200 && code < 300) this.ok.record(latencyMs);
    let h = this.byStatus.get(code);
    if (!h) {
      h = new LatencyHistogram();
      this.byStatus.set(code, h);
    }
    h.record(latencyMs);
    const s = this.#second(at);
    s.completed++;
    s.status.set(code, (s.status.get(code) ?? 0) + 1);
    s.latency.record(latencyMs);
  }

  /** A request failed without a response (connection refused/reset, timeout) at `at`. */
  error(code: string, at: number = performance.now()): void {
    this.completed++;
    this.failed++;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    const s = this.#second(at);
    s.completed++;
    s.errors++;
  }

  /** The per-second timeline, `seconds` long at least. */
  timeline(seconds: number): TimelinePoint[] {
    while (this.#seconds.length < seconds) this.#seconds.push(new Second());
    const r = (v: number) => Math.round(v * 100) / 100;
    return this.#seconds.map((s, t_s) => {
      const status: Record<string, number> = {};
      for (const k of [...s.status.keys()].sort((a, b) => a - b)) status[String(k)] = s.status.get(k) as number;
      if (s.errors > 0) status.error = s.errors;
      return { t_s, sent: s.sent, completed: s.completed, status, p50_ms: r(s.latency.percentile(50)), p99_ms: r(s.latency.percentile(99)) };
    });
  }

  /** Builds the result; `windowMs` is the sending window the rates are computed over, `extra` more percentiles to report. */
  result(base: Pick<LoadResult, "url" | "mode" | "offered_rps" | "connections">, windowMs: number, extra: readonly number[] = []): LoadResult {
    const status: Record<string, number> = {};
    for (const [k, v] of [...this.status.entries()].sort((a, b) => a[0] - b[0])) status[String(k)] = v;
    let errorCount = 0;
    for (const v of this.errors.values()) errorCount += v;
    if (errorCount > 0) status.error = errorCount;
    const byStatus: LoadResult["latency_ms"]["by_status"] = {};
    for (const [k, h] of [...this.byStatus.entries()].sort((a, b) => a[0] - b[0])) byStatus[String(k)] = h.summary(extra);
    const secs = windowMs / 1000;
    const ok = this.ok.summary(extra);
    const lag = this.lag.summary();
    return {
      ...base,
      duration_s: Math.round(secs * 100) / 100,
      sent: this.sent,
      completed: this.completed,
      status,
      errors: Object.fromEntries(this.errors),
      goodput_rps: Math.round((this.ok.count / secs) * 10) / 10,
      throughput_rps: Math.round((this.all.count / secs) * 10) / 10,
      p50_ms: ok.p50,
      p99_ms: ok.p99,
      latency_ms: { all: this.all.summary(extra), ok, by_status: byStatus },
      schedule_lag_ms: { p50: lag.p50, p99: lag.p99, max: lag.max },
      client_queued: this.clientQueued,
      timeline: this.timeline(Math.ceil(secs)),
    };
  }
}
