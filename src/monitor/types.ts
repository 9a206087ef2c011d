/** The monitor's data model: what one scrape yields, what one interval shows, what alerts say. */
import type { RequestHistogram } from "./request-histogram.js";
import type { InstanceStatus } from "./status-document.js";

/** One scrape of an admin endpoint. */
export type Scrape =
  | { ok: true; at: number; status: InstanceStatus; histogram: RequestHistogram | undefined; metricsError?: string | undefined }
  | { ok: false; at: number; error: string };

/** One worker row. */
export interface WorkerView {
  id: number;
  pid: number;
  state: string;
  uptimeS: number;
  restarts: number;
  rssBytes: number;
  eventLoopLagMs: number;
  inflight: number;
  lastHeartbeatMsAgo: number;
}

/** Per-second rates and latency over one interval (or one alert window). */
export interface Rates {
  /** Seconds covered. */
  seconds: number;
  requests: number;
  requestsPerS: number;
  errors5xxPerS: number;
  /** 5xx / requests, 0..1; undefined with no requests. */
  errorRatio: number | undefined;
  /** All 503 answers per second (shed, pool timeouts, locked database…). */
  s503PerS: number;
  /** Requests shed by admission control per second (a subset of the 503s). */
  shedPerS: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  /** Where requests and latency came from: the /metrics histogram, or /status counters (no latency). */
  source: "metrics" | "status";
}

/** Counter increases over an interval that alerts look at. */
export interface Incidents {
  poolTimeouts: number;
  lockTimeouts: number;
  workerRestarts: number;
  workerTimeouts: number;
  workerCrashes: number;
}

/** What the dashboard shows for one instance after a scrape. */
export interface InstanceView {
  /** The admin URL as given. */
  target: string;
  at: number;
  up: boolean;
  /** Why the instance is DOWN, or a partial-scrape warning. */
  error?: string | undefined;
  phase?: string | undefined;
  ready?: boolean | undefined;
  version?: string | undefined;
  uptimeS?: number | undefined;
  /** Over the last interval; undefined on the first scrape (no delta yet). */
  interval?: Rates | undefined;
  /** Over the alert window. */
  window?: Rates | undefined;
  /** Counter increases over the alert window. */
  windowIncidents?: Incidents | undefined;
  workers: WorkerView[];
  pool?: { utilization: number; busy: number; max: number; waiting: number; timeoutsTotal: number } | undefined;
  sqlite?: { walBytes: number; lockTimeoutsTotal: number; lockWaitsTotal: number; writeQueue: number } | undefined;
  admission?: { mode: string; limit: number; inflight: number; queued: number; queueDelayMs: number } | undefined;
  totals?: { requests: number; restarts: number; timeouts: number; crashes: number; shed: number } | undefined;
  /** The supervisor's latest events (worker exits, watchdog kills, recycles, reloads), oldest first. */
  events?: SupervisorEventView[] | undefined;
  /** Events that arrived since the previous scrape. */
  newEvents?: SupervisorEventView[] | undefined;
}

/** A supervisor event as /status lists it: `{ time, event, ...fields }`. */
export interface SupervisorEventView {
  time: string;
  event: string;
  [field: string]: unknown;
}

/** Alert lifecycle: pending waits out `for`, resolving waits out `resolveFor`. */
export type AlertState = "inactive" | "pending" | "firing" | "resolving";

/** One rule's verdict for one instance at one moment. */
export interface RuleResult {
  rule: string;
  instance: string;
  /** True when the condition holds now. */
  active: boolean;
  value: number | undefined;
  threshold: number;
  /** A sentence with the evidence. */
  summary: string;
  severity: "critical" | "warning";
}

/** An alert as shown and sent. */
export interface Alert {
  rule: string;
  instance: string;
  state: AlertState;
  severity: "critical" | "warning";
  value: number | undefined;
  threshold: number;
  summary: string;
  /** When the condition started holding (pending) or the alert fired. */
  since: string;
  firedAt?: string | undefined;
  resolvedAt?: string | undefined;
}

/** A change worth telling a webhook about. */
export interface AlertTransition {
  status: "firing" | "resolved";
  alert: Alert;
}
