/** Gathers per-request outcomes into the counts and histograms of a {@link LoadResult}. */
import { LatencyHistogram } from "./latency-histogram.js";
import type { LoadResult } from "./types.js";

/** Mutable tallies of one run. */
export class Collector {
  readonly all = new LatencyHistogram();
  readonly ok = new LatencyHistogram();
  readonly byStatus = new Map<number, LatencyHistogram>();
  readonly lag = new LatencyHistogram();
  readonly status = new Map<number, number>();
  readonly errors = new Map<string, number>();
  sent = 0;
  completed = 0;
  clientQueued = 0;

  /** A response arrived `latencyMs` after the request's scheduled time. */
  response(code: number, latencyMs: number): void {
    this.completed++;
    this.status.set(code, (this.status.get(code) ?? 0) + 1);
    this.all.record(latencyMs);
    if (code >= 200 && code < 300) this.ok.record(latencyMs);
    let h = this.byStatus.get(code);
    if (!h) {
      h = new LatencyHistogram();
      this.byStatus.set(code, h);
    }
    h.record(latencyMs);
  }

  /** A request failed without a response (connection refused/reset, timeout). */
  error(code: string): void {
    this.completed++;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** Builds the result; `windowMs` is the sending window the rates are computed over. */
  result(base: Pick<LoadResult, "url" | "mode" | "offered_rps" | "connections">, windowMs: number): LoadResult {
    const status: Record<string, number> = {};
    for (const [k, v] of [...this.status.entries()].sort((a, b) => a[0] - b[0])) status[String(k)] = v;
    let errorCount = 0;
    for (const v of this.errors.values()) errorCount += v;
    if (errorCount > 0) status.error = errorCount;
    const byStatus: LoadResult["latency_ms"]["byStatus"] = {};
    for (const [k, h] of [...this.byStatus.entries()].sort((a, b) => a[0] - b[0])) byStatus[String(k)] = h.summary();
    const secs = windowMs / 1000;
    const ok = this.ok.summary();
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
      latency_ms: { all: this.all.summary(), ok, byStatus },
      schedule_lag_ms: { p50: lag.p50, p99: lag.p99, max: lag.max },
      client_queued: this.clientQueued,
    };
  }
}
