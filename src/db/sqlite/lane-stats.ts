/** Counters shared by the reader pool and the writer lane, read by status(). */
import { LatencyWindow } from "../pool/index.js";

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
