/** Prometheus view of `cache.status()`, read at scrape time (nothing on the request path). */
import type { CacheStatus } from "../../cache/index.js";
import type { WorkerMetrics } from "../../telemetry/index.js";

/**
 * Registers the holdfast_cache_* metrics: running totals as counters (`_total`, kept by the
 * supervisor across worker restarts), the current state as gauges; all summed across workers.
 */
export function registerCacheGauges(metrics: WorkerMetrics, read: () => CacheStatus | undefined): void {
  metrics.addStatusCounters<CacheStatus>(read, [
    ["holdfast_cache_hits_total", "Cache calls answered with a fresh value.", (s) => s.hits],
    ["holdfast_cache_misses_total", "Cache calls that found no usable value.", (s) => s.misses],
    ["holdfast_cache_stale_served_total", "wrap() calls answered with a stale value while refreshing.", (s) => s.staleServed],
    ["holdfast_cache_loader_runs_total", "Loader runs (loads and background refreshes).", (s) => s.loaderRuns],
    ["holdfast_cache_loader_errors_total", "Loaders that threw or returned a value JSON cannot hold.", (s) => s.loaderErrors],
    ["holdfast_cache_joins_total", "Misses answered by another caller's load (single-flight).", (s) => s.joins],
    ["holdfast_cache_backend_errors_total", "Redis commands that failed or timed out.", (s) => s.backendErrors],
    ["holdfast_cache_degraded_total", "wrap() calls answered by the loader alone because the backend failed.", (s) => s.degraded],
  ]);
  metrics.addStatusGauges<CacheStatus>(read, [
    [
      "holdfast_cache_available",
      "Workers whose cache backend is reachable (1 per worker, summed; below the worker count = calls bypassing the cache).",
      (s) => (s.available ? 1 : 0),
    ],
    ["holdfast_cache_entries", "Entries held by the memory cache.", (s) => s.size],
  ]);
}
