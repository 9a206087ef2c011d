/** Metrics the supervisor itself owns (the workers' come from their heartbeat snapshots). */
import { promClient } from "../telemetry/index.js";

/** Supervisor counters and gauges, in their own registry. */
export class SupervisorMetrics {
  readonly registry = new promClient.Registry();
  readonly restarts = new promClient.Counter({ name: "holdfast_worker_restarts_total", help: "Workers started to replace another.", registers: [this.registry] });
  readonly crashes = new promClient.Counter({ name: "holdfast_worker_crashes_total", help: "Workers that exited without being asked to.", registers: [this.registry] });
  readonly timeouts = new promClient.Counter({ name: "holdfast_worker_timeouts_total", help: "Workers killed by the heartbeat watchdog (event loop stuck).", registers: [this.registry] });
  readonly recycles = new promClient.Counter({ name: "holdfast_worker_recycles_total", help: "Workers replaced after maxRequests or maxRss.", registers: [this.registry] });
  readonly workers = new promClient.Gauge({ name: "holdfast_workers", help: "Worker processes by phase.", labelNames: ["phase"], registers: [this.registry] });
}
