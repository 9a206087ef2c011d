/** Counters shared by the reader pool and the writer lane, read by status(). */
import { LatencyWindow } from "../pool/index.js";
import type { LatencySummary, PoolStatus } from "../types.js";

/** Waits, run times and failure counts of one lane (readers or writer). */
export class LaneStats {
  /** Time from submit to dispatch to a thread. */
  readonly acquireWait = new LatencyWindow();
  /** Time from dispatch to result. */
  readonly usage = new LatencyWindow();
  timeouts = 0;
  queueFull = 0;
  errors = 0;
}

/** Thread counts and lifetime counters that status() reports beside the two lanes' figures. */
export interface ThreadCounts {
  threads: number;
  busy: number;
  waiting: number;
  creates: number;
  createErrors: number;
  destroys: number;
  leaks: number;
}

/** The reader threads and the writer seen as one pool: status().pool, in the shape PostgreSQL's pool reports. */
export function threadPoolStatus(read: LaneStats, write: LaneStats, c: ThreadCounts): PoolStatus {
  return {
    size: c.threads,
    busy: c.busy,
    idle: c.threads - c.busy,
    waiting: c.waiting,
    max: c.threads,
    utilization: c.busy / c.threads,
    acquireWaitMs: worstOf(read.acquireWait.summary(), write.acquireWait.summary()),
    usageMs: worstOf(read.usage.summary(), write.usage.summary()),
    timeouts: read.timeouts + write.timeouts,
    queueFull: read.queueFull + write.queueFull,
    creates: c.creates,
    createErrors: c.createErrors,
    destroys: c.destroys,
    validationFailures: 0,
    errors: read.errors + write.errors,
    leaks: c.leaks,
  };
}

/** Two lanes' percentiles as one: the slower lane's at each percentile (an upper bound), counts added. */
function worstOf(x: LatencySummary, y: LatencySummary): LatencySummary {
  return { p50: Math.max(x.p50, y.p50), p95: Math.max(x.p95, y.p95), p99: Math.max(x.p99, y.p99), max: Math.max(x.max, y.max), count: x.count + y.count };
}
