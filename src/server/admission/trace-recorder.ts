/**
 * Admission traces: one CSV line per request a worker saw — when it arrived, how long it had
 * waited in front of the worker, what admission decided, how long it queued and how long it ran.
 * Set `HOLDFAST_ADMISSION_TRACE=<directory>` and each worker writes `admission-<pid>.csv` there.
 *
 * Why: whether a shed was right depends on the traffic and the machine, and both are hard to
 * reproduce. A trace recorded on the machine in question replays through the controller with an
 * injected clock (see trace-replay.ts and controller.test.ts, which replays traces recorded here
 * on a quiet machine, a noisy one and an overloaded one), so a tuning change is judged on real
 * arrivals without timing in the test. Off unless set: the wrapper is not installed at all.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { AdmissionController, AdmissionRequest, AdmitResult } from "./types.js";

/** The CSV header of a trace file. */
export const TRACE_HEADER = "arrival_ms,hidden_ms,outcome,queued_ms,service_ms,route,limit,inflight";

/** Wraps `inner` so every decision is written to `<dir>/admission-<pid>.csv` (buffered, flushed once a second). */
export function recordAdmissionTrace(inner: AdmissionController, dir: string, now: () => number = () => performance.now()): AdmissionController {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `admission-${process.pid}.csv`);
  appendFileSync(file, `${TRACE_HEADER}\n`);
  const origin = now();
  let lines: string[] = [];
  const flush = () => {
    if (lines.length === 0) return;
    const text = `${lines.join("\n")}\n`;
    lines = [];
    try {
      appendFileSync(file, text);
    } catch {
      // A diagnostic must never take the worker down; a full disk loses trace lines only.
    }
  };
  const timer = setInterval(flush, 1000);
  timer.unref();
  const r1 = (n: number) => Math.round(n * 100) / 100;

  // Method and path (commas cannot occur in a path without its query), to tell searches from writes.
  const routeOf = (req: AdmissionRequest) => `${req.method ?? ""} ${req.path.replaceAll(",", "%2C")}`;
  const settle = (arrival: number, hidden: number, route: string, v: AdmitResult): AdmitResult => {
    if (!v.admitted) {
      // queued_ms of a shed: how long admission held it before refusing (0 when refused on arrival).
      lines.push(`${r1(arrival - origin)},${r1(hidden)},shed:${v.reason},${r1(now() - arrival)},,${route}`);
      return v;
    }
    const started = now();
    const ticket = v.ticket;
    return {
      admitted: true,
      queuedMs: v.queuedMs,
      ticket: {
        release(outcome) {
          lines.push(`${r1(arrival - origin)},${r1(hidden)},admitted,${r1(v.queuedMs)},${r1(now() - started)},${route}`);
          ticket.release(outcome);
        },
      },
    };
  };

  return {
    admit(req: AdmissionRequest) {
      const arrival = now();
      const hidden = req.receivedAt === undefined ? 0 : Math.max(0, arrival - req.receivedAt);
      const seen = inner.status();
      // The limit and in-flight count as admission saw them on arrival: how the adaptive limit moved.
      const route = `${routeOf(req)},${seen.limit},${seen.inflight}`;
      const v = inner.admit(req);
      return v instanceof Promise ? v.then((x) => settle(arrival, hidden, route, x)) : settle(arrival, hidden, route, v);
    },
    status: () => inner.status(),
    ready: () => inner.ready(),
    close() {
      clearInterval(timer);
      flush();
      inner.close();
    },
  };
}
