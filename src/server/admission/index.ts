/**
 * server/admission — adaptive admission control for one worker: a concurrency limit learned
 * from latency, a bounded CoDel/adaptive-LIFO queue, an event-loop guard graded by route
 * priority, and fast 503 OVERLOADED answers with an honest Retry-After. See docs/overload.md.
 * Where each behaviour lives (one hop from here):
 *
 *   controller.ts          admit(): priority → event-loop guard → limit → queue → 503; release, sweep, status
 *   overload-detector.ts   overloaded or only noisy: CoDel's standing-queue rule, and the wait bounds
 *   gradient-limit.ts      the adaptive concurrency limit (latency gradient, probe, decay when app-limited)
 *   admission-queue.ts     the bounded wait queue (FIFO, LIFO under overload); drain-rate.ts its Retry-After
 *   event-loop-guard.ts    sheds by event-loop delay and utilisation, graded by route-priorities.ts
 *   request-start.ts       X-Request-Start parsing; trace-recorder.ts writes HOLDFAST_ADMISSION_TRACE files
 */
import type { WorkerMetrics } from "../../telemetry/index.js";
import { type AdmissionDeps, type AdmissionOptions, Controller } from "./controller.js";
import type { AdmissionController } from "./types.js";

export type { AdmissionDeps, AdmissionOptions } from "./controller.js";
export { requestStartFromHeader } from "./request-start.js";
export { recordAdmissionTrace } from "./trace-recorder.js";
export type {
  AdmissionController,
  AdmissionRequest,
  AdmissionStatus,
  AdmissionTicket,
  AdmitResult,
  Priority,
  ShedReason,
} from "./types.js";

/** Creates the admission controller of one worker from `config.admission`. */
export function createAdmissionController(options: AdmissionOptions, deps: AdmissionDeps = {}): AdmissionController {
  return new Controller(options, deps);
}

/**
 * Registers holdfast_admission_* gauges (limit, in-flight, queue length, queue delay, event-loop
 * delay and utilisation) read from `controller.status()` at scrape time. Shed counts are the
 * request handler's holdfast_shed_requests_total counter.
 */
export function registerAdmissionGauges(metrics: WorkerMetrics, controller: AdmissionController): void {
  const gauges: [string, string, (s: ReturnType<AdmissionController["status"]>) => number][] = [
    ["holdfast_admission_limit", "Current concurrency limit of the worker (adaptive or fixed).", (s) => s.limit],
    ["holdfast_admission_inflight", "Requests the worker is running now, as admission control counts them.", (s) => s.inflight],
    ["holdfast_admission_queue_length", "Requests waiting in the admission queue.", (s) => s.queued],
    ["holdfast_admission_queue_delay_seconds", "Recent queueing delay in the admission queue.", (s) => s.queueDelayMs / 1000],
    ["holdfast_event_loop_delay_seconds", "Typical (median) event-loop delay in the last 50 ms sample.", (s) => s.eventLoopDelayMs / 1000],
    ["holdfast_event_loop_utilization_ratio", "Smoothed event-loop utilisation (0..1).", (s) => s.eventLoopUtilization],
  ];
  for (const [name, help, read] of gauges) {
    metrics.addGauge(name, help, [], (g) => g.set(read(controller.status())));
  }
}
