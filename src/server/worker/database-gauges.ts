/** Prometheus view of `db.status()`, read at scrape time (nothing on the query path). */
import type { DatabaseStatus, SqliteRouteCounts } from "../../db/types.js";
import { promClient, type WorkerMetrics } from "../../telemetry/index.js";

/**
 * Registers the holdfast_db_* and holdfast_sqlite_* metrics: running totals as counters
 * (`_total`), the current state as gauges. `read` returns undefined until the app first uses
 * the database.
 */
export function registerDatabaseGauges(metrics: WorkerMetrics, readStatus: () => DatabaseStatus | undefined): void {
  const read = metrics.perScrape(readStatus);
  metrics.addStatusGauges<DatabaseStatus>(read, [
    ["holdfast_db_pool_size", "Database connections (or SQLite threads) open.", (s) => s.pool.size],
    ["holdfast_db_pool_busy", "Connections lent out right now.", (s) => s.pool.busy],
    ["holdfast_db_pool_idle", "Connections open and free.", (s) => s.pool.idle],
    ["holdfast_db_pool_waiting", "Callers waiting for a connection.", (s) => s.pool.waiting],
    ["holdfast_db_pool_max", "Most connections allowed.", (s) => s.pool.max],
    ["holdfast_db_pool_utilization_ratio", "busy / max (the post-mortem's target: below 0.8).", (s) => s.pool.utilization],
    ["holdfast_db_pool_acquire_wait_p99_seconds", "p99 of how long acquires waited.", (s) => s.pool.acquireWaitMs.p99 / 1000],
    ["holdfast_sqlite_wal_bytes", "Size of the SQLite write-ahead log.", (s) => s.sqlite?.walBytes],
    ["holdfast_sqlite_write_queue", "Writes queued for the SQLite writer thread.", (s) => s.sqlite?.writeQueue],
    [
      "holdfast_sqlite_inline_statements",
      "SQLite read statements measured fast enough to run on the main thread right now.",
      (s) => s.sqlite?.reads?.inlineStatements,
    ],
    [
      "holdfast_sqlite_inline_write_statements",
      "SQLite write statements (db.run) measured fast enough to run on the main thread's connection right now.",
      (s) => s.sqlite?.writes?.inlineStatements,
    ],
  ]);
  metrics.addStatusCounters<DatabaseStatus>(read, [
    ["holdfast_db_pool_timeouts_total", "Acquires that timed out (answered 503 POOL_TIMEOUT).", (s) => s.pool.timeouts],
    ["holdfast_db_pool_leaks_total", "Connections held past the leak-detection threshold.", (s) => s.pool.leaks],
    ["holdfast_db_pool_errors_total", "Connection errors.", (s) => s.pool.errors],
    ["holdfast_sqlite_lock_waits_total", "SQLite writes that had to wait for a lock held by another connection or process.", (s) => s.sqlite?.lockWaits],
    ["holdfast_sqlite_lock_timeouts_total", "SQLite writes that gave up on a lock (answered 503 DB_LOCKED).", (s) => s.sqlite?.lockTimeouts],
    [
      "holdfast_sqlite_lock_shed_total",
      "SQLite writes failed at once (503 DB_LOCKED) because db.sqlite.lockWaiters writes already waited for a lock held elsewhere.",
      (s) => s.sqlite?.lockShed,
    ],
    [
      "holdfast_sqlite_inline_demotions_total",
      "Times a SQLite statement ran over db.sqlite.inlineReadThresholdUs on the main thread and went back to the reader threads.",
      (s) => s.sqlite?.reads?.demotions,
    ],
    [
      "holdfast_sqlite_inline_pauses_total",
      "Times every inline SQLite read was paused (10 demotions within 1 s: the machine is short of cores).",
      (s) => s.sqlite?.reads?.pauses,
    ],
    [
      "holdfast_sqlite_inline_busy_fallbacks_total",
      "SQLite reads that met a lock on the main thread and were re-run on a reader thread.",
      (s) => s.sqlite?.reads?.busyFallbacks,
    ],
    [
      "holdfast_sqlite_inline_write_demotions_total",
      "Times a SQLite write statement ran over db.sqlite.inlineWriteThresholdUs on the main thread and went back to the writer thread.",
      (s) => s.sqlite?.writes?.demotions,
    ],
    [
      "holdfast_sqlite_inline_write_pauses_total",
      "Times every inline SQLite write was paused (10 demotions within 1 s: the machine is short of cores).",
      (s) => s.sqlite?.writes?.pauses,
    ],
    [
      "holdfast_sqlite_inline_write_busy_fallbacks_total",
      "SQLite writes that met a lock on the main thread (another process writing) and went to the writer thread, which waits for it.",
      (s) => s.sqlite?.writes?.busyFallbacks,
    ],
  ]);
  laneCounter(
    metrics,
    "holdfast_sqlite_reads_total",
    "SQLite reads by where they ran: inline on the main thread (statement measured fast) or on a reader thread.",
    () => read()?.sqlite?.reads,
  );
  laneCounter(
    metrics,
    "holdfast_sqlite_writes_total",
    "SQLite db.run() writes by where they ran: inline on the main thread's connection (statement measured fast, writer idle) or on the writer thread.",
    () => read()?.sqlite?.writes,
  );
}

/** Statements counted by lane, inline or thread. */
function laneCounter(metrics: WorkerMetrics, name: string, help: string, counts: () => SqliteRouteCounts | undefined): void {
  statusCounter(metrics, name, help, ["lane"], (set) => {
    const r = counts();
    if (r) {
      set({ lane: "inline" }, r.inline);
      set({ lane: "thread" }, r.threaded);
    }
  });
}

/**
 * A counter whose value is a running total read from status at scrape time. prom-client counters
 * only go up by inc(), so each scrape adds what the total grew by since the last one.
 */
function statusCounter(
  metrics: WorkerMetrics,
  name: string,
  help: string,
  labelNames: string[],
  collect: (set: (labels: Record<string, string>, total: number) => void) => void,
): void {
  const seen = new Map<string, number>();
  new promClient.Counter({
    name,
    help,
    labelNames,
    registers: [metrics.registry],
    collect() {
      collect((labels, total) => {
        const key = JSON.stringify(labels);
        const grew = total - (seen.get(key) ?? 0);
        seen.set(key, total);
        // A reopened database starts its totals at zero again; the counter keeps what it had.
        if (grew > 0) this.inc(labels, grew);
      });
    },
  });
}
