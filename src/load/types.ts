/** The load generator's options and result (the JSON `holdfast load --json` prints). */
import type { LatencySummary } from "./latency-histogram.js";

/** One request to send. */
export interface RequestSpec {
  method?: string;
  /** Path with query, e.g. "/notes/7". */
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** Origin, e.g. "http://127.0.0.1:8080" (a path in it is the default request path). */
  url: string;
  /** "open": a constant-rate schedule regardless of responses (default); "closed": `connections` clients send back to back. */
  mode?: "open" | "closed";
  /** Requests per second (open loop). */
  rate?: number;
  /** How long to send, ms (with `stages`, their sum is used instead). */
  durationMs: number;
  /** Open loop: constant-rate steps one after another, replacing `rate` and `durationMs`. */
  stages?: Stage[];
  /** Latency percentiles (0–100) to report besides p50/p90/p95/p99/p99.9, e.g. 97.5 for an SLO `p97.5<…`. */
  percentiles?: number[];
  /** Connections (open loop: the most requests in flight; beyond it requests wait in the client, and that wait counts). Default 256 open, 16 closed. */
  connections?: number;
  /** Per-request timeout, ms; a request past it counts as error "timeout". Default 60 000. */
  timeoutMs?: number;
  /** Request i (0-based); default: GET of the URL's path. */
  request?: (i: number) => RequestSpec;
  /**
   * Send `X-Request-Start: t=<ms since epoch>` with the time each request is sent (as a proxy stamps
   * the time it received it), so a server that reads it (holdfast's admission does) sees the time a
   * request spent queued before it could read it; the generator's own lag is not counted. Only
   * meaningful when client and server share a clock (the same machine).
   */
  stampRequestStart?: boolean;
  /** Called once a second with the running counts (for progress output). */
  onTick?: (s: Progress) => void;
}

/** One step of an open-loop schedule: `rate` requests/s for `durationMs`. */
export interface Stage {
  durationMs: number;
  rate: number;
}

/** Running counts, handed to `onTick` once a second. */
export interface Progress {
  elapsedMs: number;
  /** Planned sending time, ms. */
  totalMs: number;
  sent: number;
  completed: number;
  inflight: number;
  /** 5xx answers plus connection errors and timeouts so far. */
  failed: number;
}

/** One second of a run (`t_s` counts from the start; a request counts where it was sent, a response where it arrived). */
export interface TimelinePoint {
  t_s: number;
  sent: number;
  completed: number;
  /** Responses by status code that arrived in this second, connection errors under "error". */
  status: Record<string, number>;
  /** Latency of the responses that arrived in this second (all statuses), ms; 0 when none. */
  p50_ms: number;
  p99_ms: number;
}

/** Outcome of a run. Latencies are measured from each request's scheduled send time (open loop). */
export interface LoadResult {
  url: string;
  mode: "open" | "closed";
  /** Requests per second that were scheduled (open loop), or achieved (closed loop). */
  offered_rps: number;
  duration_s: number;
  connections: number;
  sent: number;
  completed: number;
  /** Responses by status code, plus connection errors and timeouts under "error". */
  status: Record<string, number>;
  /** Connection errors by code (ECONNREFUSED, UND_ERR_SOCKET, timeout, …). */
  errors: Record<string, number>;
  /** 2xx responses per second of the sending window. */
  goodput_rps: number;
  /** All responses per second. */
  throughput_rps: number;
  /** p50/p99 of the 2xx, ms (the bench's headline keys). */
  p50_ms: number;
  p99_ms: number;
  latency_ms: { all: LatencySummary; ok: LatencySummary; by_status: Record<string, LatencySummary> };
  /** How late the generator sent requests against its own schedule, ms: high values mean the generator, not the server, was the bottleneck. */
  schedule_lag_ms: { p50: number; p99: number; max: number };
  /** Requests that had to wait for a free connection in the client (open loop with all connections busy). */
  client_queued: number;
  /** Open loop with stages: the schedule that was offered. */
  stages?: { duration_s: number; rate: number }[];
  /** Per-second counts and latency. */
  timeline: TimelinePoint[];
}
