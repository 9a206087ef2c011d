/** What `holdfast load --admin URL` reports about the servers: per-second samples and run totals (the `server` key of `--json`). */

/** One reading of one instance's admin endpoint during the run. */
export interface ServerSample {
  /** Seconds since the run started. */
  t_s: number;
  target: string;
  up: boolean;
  /** Busiest worker's pool, busy / max (0–1); null when no pool is reported. */
  pool_utilization: number | null;
  pool_waiting: number | null;
  /** Requests in flight in the workers. */
  inflight: number | null;
  /** Over the interval since the previous reading. */
  requests_per_s: number | null;
  shed_per_s: number | null;
  /** Server-side request duration p99 over the interval (from /metrics), ms. */
  p99_ms: number | null;
  /** Worst worker's event-loop lag, ms. */
  loop_lag_max_ms: number | null;
  /** Why the instance could not be read. */
  error?: string;
}

/** The server-side figures of a run, for one instance or all of them together. */
export interface ServerFigures {
  /** The highest utilisation a pool reached (0–1); for all instances, the busiest instance's busiest pool. */
  pool_utilization_max: number | null;
  pool_timeouts: number;
  lock_timeouts: number;
  worker_restarts: number;
  worker_timeouts: number;
  worker_crashes: number;
  /** Requests counted during the run, and how many of them were shed (503 from admission control). */
  requests: number;
  shed: number;
  /** p99 over every worker's once-a-second event-loop lag reading, ms. */
  loop_lag_p99_ms: number | null;
}

/** Run totals of one instance. */
export interface ServerInstanceSummary extends ServerFigures {
  target: string;
  samples_ok: number;
  samples_failed: number;
  last_error: string | null;
}

/** All instances together (the figures server-side SLOs are judged on). */
export interface ServerSummary extends ServerFigures {
  samples: number;
  instances: ServerInstanceSummary[];
  timeline: ServerSample[];
}
