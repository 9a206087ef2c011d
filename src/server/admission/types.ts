/**
 * The contract between the worker runtime and admission control. The runtime asks
 * `admit()` once per request before running the app, and calls `ticket.release()`
 * exactly once when the response has finished (or the request was abandoned).
 */
import type { Deadline } from "../../context/index.js";
import type { HoldfastError } from "../../errors/index.js";

/** How a route is treated under overload. */
export type Priority = "critical" | "normal" | "sheddable";

/** Why a request was shed. */
export type ShedReason = "limit" | "queue-full" | "queue-delay" | "deadline" | "client-gone" | "event-loop";

/** What admission needs to know about a request. */
export interface AdmissionRequest {
  /** URL path (no query), matched against admission.routes prefixes. */
  path: string;
  /** HTTP method, when known; only admission traces use it (to tell reads from writes). */
  readonly method?: string;
  /** The request's deadline. */
  deadline: Deadline;
  /** Aborted when the client goes away; a queued request whose client left is dropped, never run. */
  signal: AbortSignal;
  /** Same as signal.aborted, without building the signal (a per-request cost on the fast path). */
  readonly aborted?: boolean;
  /**
   * When the request entered the system, on the performance.now() clock: from the proxy's
   * X-Request-Start via `requestStartFromHeader`. Time spent before admission (in the proxy, the
   * kernel, a busy event loop) then counts as queueing: a request that already waited longer than
   * the queue allows is shed at once. Optional; without it only admission's own queue is seen.
   */
  readonly receivedAt?: number;
}

/** Held while the request runs; release it once. */
export interface AdmissionTicket {
  /** Reports the outcome so the adaptive limit can learn; `ok` = not a 5xx caused by the app being slow. */
  release(outcome: { latencyMs: number; ok: boolean }): void;
}

/** Result of {@link AdmissionController.admit}. */
export type AdmitResult = { admitted: true; ticket: AdmissionTicket; queuedMs: number } | { admitted: false; reason: ShedReason; error: HoldfastError };

/** Live numbers for /status, /metrics and logs. */
export interface AdmissionStatus {
  mode: "adaptive" | "fixed" | "off";
  limit: number;
  inflight: number;
  queued: number;
  /** Sustained overload right now: a standing queue (see overload-detector.ts); delay sheds happen only then. */
  overloaded: boolean;
  /** Recent queueing delay, ms (EWMA or last). */
  queueDelayMs: number;
  /** Shed counts by reason since start. */
  shed: Record<ShedReason, number>;
  admitted: number;
  eventLoopDelayMs: number;
  eventLoopUtilization: number;
}

/** Admission control for one worker process. */
export interface AdmissionController {
  /** Admits now (sync fast path), queues (promise), or sheds with an OVERLOADED error carrying retryAfter. */
  admit(req: AdmissionRequest): AdmitResult | Promise<AdmitResult>;
  status(): AdmissionStatus;
  /**
   * The worker has loaded the app and starts serving: what the event loop went through before
   * (importing and compiling the app, opening the database) says nothing about overload, so the
   * event-loop guard starts from a clean slate.
   */
  ready(): void;
  /** Stops timers (event-loop monitor). */
  close(): void;
}
