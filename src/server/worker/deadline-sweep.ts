/**
 * Watches the deadlines of the requests in flight with one timer instead of one per request.
 * Every request has the same deadline length, so the in-flight list (insertion-ordered) is also
 * ordered by deadline: the timer only has to watch the oldest request still watched.
 */
import { performance } from "node:perf_hooks";
import type { InflightList } from "./inflight-list.js";
import type { InflightRequest } from "./inflight-request.js";

/** The one deadline timer of a worker's request handler. */
export class DeadlineSweep {
  readonly #inflight: InflightList;
  readonly #deadlineMs: number;
  readonly #onDeadline: (entry: InflightRequest) => void;
  /** The timer callback, made once. */
  readonly #sweep = () => this.#run();
  #timer: NodeJS.Timeout | undefined;

  /** `onDeadline` answers for a watched request whose deadline has passed. */
  constructor(inflight: InflightList, deadlineMs: number, onDeadline: (entry: InflightRequest) => void) {
    this.#inflight = inflight;
    this.#deadlineMs = deadlineMs;
    this.#onDeadline = onDeadline;
  }

  /** Sets the timer for the oldest watched request, unless it is set already (called per watched request). */
  arm(): void {
    if (this.#timer || this.#deadlineMs <= 0) return;
    for (const r of this.#inflight) {
      if (!r.watched) continue;
      this.#timer = setTimeout(this.#sweep, Math.max(1, r.start + this.#deadlineMs - performance.now()));
      return;
    }
  }

  #run(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const r of this.#inflight) {
      if (r.start + this.#deadlineMs > now) break;
      if (!r.watched) continue;
      r.watched = false;
      this.#onDeadline(r);
    }
    this.arm();
  }
}
