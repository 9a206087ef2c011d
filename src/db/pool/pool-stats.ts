/** The pool's counters and latency windows, and the PoolStatus snapshot built from them. */
import type { PoolStatus } from "../types.js";
import { LatencyWindow } from "./latency-window.js";

/** Live figures the pool passes in when a snapshot is taken. */
export interface PoolGauges {
  size: number;
  idle: number;
  waiting: number;
  max: number;
  createErrors: number;
}

/** Counters since the pool opened. Plain fields: incrementing them is the hot path. */
export class PoolStats {
  /** How long acquires waited (0 on the fast path). */
  readonly acquireWait = new LatencyWindow();
  /** How long leases were held. */
  readonly usage = new LatencyWindow();
  timeouts = 0;
  queueFull = 0;
  creates = 0;
  destroys = 0;
  validationFailures = 0;
  errors = 0;
  leaks = 0;

  /** The PoolStatus served on /status. */
  snapshot(g: PoolGauges): PoolStatus {
    const busy = g.size - g.idle;
    return {
      size: g.size,
      busy,
      idle: g.idle,
      waiting: g.waiting,
      max: g.max,
      utilization: Math.round((busy / g.max) * 1000) / 1000,
      acquireWaitMs: this.acquireWait.summary(),
      usageMs: this.usage.summary(),
      timeouts: this.timeouts,
      queueFull: this.queueFull,
      creates: this.creates,
      createErrors: g.createErrors,
      destroys: this.destroys,
      validationFailures: this.validationFailures,
      errors: this.errors,
      leaks: this.leaks,
    };
  }
}
