/**
 * Backend failures, counted and told to the operator without flooding the log: one
 * `cache.unavailable` warning per interval (with how many failures it stands for), and one
 * `cache.available` line when the connection is ready again.
 */
import type { Logger } from "../telemetry/index.js";
import { BackendFailure } from "./store.js";

/** Settings of {@link OutageReporter}. */
export interface OutageReporterOptions {
  /** "memory" or "redis", for the log lines. */
  backend: string;
  /** The backend URL without its password. */
  displayUrl: string;
  /** At most one warning per this many ms. */
  intervalMs: number;
  log: Logger;
}

/** Counts backend failures and logs them at most once per interval. */
export class OutageReporter {
  /** Failures counted (those cut by a request's deadline excluded). */
  errors = 0;
  readonly #o: OutageReporterOptions;
  #lastLog = Number.NEGATIVE_INFINITY;
  #sinceLog = 0;
  #reported = false;

  constructor(o: OutageReporterOptions) {
    this.#o = o;
  }

  /** Records a failed backend call on `key`. */
  failed(err: unknown, key: string): void {
    const failure = err instanceof BackendFailure ? err : new BackendFailure("error", "unknown", err instanceof Error ? err.message : String(err), err);
    // The request ran out of time: not the backend's fault, nothing to report.
    if (failure.kind === "deadline") return;
    this.errors++;
    this.#sinceLog++;
    const now = performance.now();
    if (now - this.#lastLog < this.#o.intervalMs) return;
    this.#lastLog = now;
    this.#reported = true;
    this.#o.log.warn(
      {
        event: "cache.unavailable",
        backend: this.#o.backend,
        url: this.#o.displayUrl,
        op: failure.op,
        key,
        reason: failure.kind,
        error: failure.message,
        failures: this.#sinceLog,
      },
      `the ${this.#o.backend} cache failed (${failure.message}); requests are answered by their loaders, uncached, until it is back`,
    );
    this.#sinceLog = 0;
  }

  /** The backend's connection is ready: say so once if an outage was reported. */
  recovered(): void {
    if (!this.#reported) return;
    this.#reported = false;
    this.#o.log.info({ event: "cache.available", backend: this.#o.backend, url: this.#o.displayUrl }, "the cache backend is reachable again");
  }
}
