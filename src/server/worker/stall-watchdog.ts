/**
 * In-process stall watchdog. A stuck event loop cannot say what it is stuck on, so a small
 * thread beside it watches a heartbeat word in shared memory; when the main thread has not
 * ticked for `captureAfterMs`, the thread attaches the inspector to the main thread
 * (session.connectToMainThread), pauses it, records the JavaScript stack and the in-flight
 * requests, resumes it, and writes that to a file the supervisor reads when it declares the
 * worker timed out. Nothing is exposed on the network; it costs one idle thread.
 */
import { Worker } from "node:worker_threads";

/** What the watchdog thread leaves for the supervisor. */
export interface StallReport {
  pid: number;
  capturedAt: string;
  stalledMs: number;
  stack: string;
  inflight: { reqId: string; method: string; path: string; ageMs: number }[];
}

// Plain CommonJS source so the thread starts the same way under tsx and from dist/.
const THREAD_SOURCE = `
const { workerData } = require("node:worker_threads");
const inspector = require("node:inspector");
const { writeFileSync, renameSync } = require("node:fs");
const beat = new BigInt64Array(workerData.sab);
const { captureAfterMs, file, pid } = workerData;
let capturedFor = -1n;
function capture(stalledSince, stalledMs) {
  const s = new inspector.Session();
  s.connectToMainThread();
  const scripts = new Map();
  s.on("Debugger.scriptParsed", (m) => scripts.set(m.params.scriptId, m.params.url));
  s.once("Debugger.paused", (m) => {
    const frames = m.params.callFrames.slice(0, 30);
    const stack = frames.map((f) => "    at " + (f.functionName || "<anonymous>") + " (" + (scripts.get(f.location.scriptId) || f.url || "?") + ":" + (f.location.lineNumber + 1) + ":" + (f.location.columnNumber + 1) + ")").join("\\n");
    const done = (inflight) => {
      const report = { pid, capturedAt: new Date().toISOString(), stalledMs, stack, inflight };
      try { writeFileSync(file + ".tmp", JSON.stringify(report)); renameSync(file + ".tmp", file); } catch {}
      s.post("Debugger.resume", () => { try { s.disconnect(); } catch {} });
    };
    if (!frames.length) return done([]);
    s.post("Debugger.evaluateOnCallFrame", { callFrameId: frames[0].callFrameId, expression: "JSON.stringify(globalThis[Symbol.for('holdfast.inflight')]?.() ?? [])", silent: true, returnByValue: true }, (err, r) => {
      let inflight = [];
      try { if (!err && r && r.result && typeof r.result.value === "string") inflight = JSON.parse(r.result.value); } catch {}
      done(inflight);
    });
  });
  s.post("Debugger.enable", () => s.post("Debugger.pause"));
}
setInterval(() => {
  const last = Atomics.load(beat, 0);
  const stalledMs = Date.now() - Number(last);
  if (stalledMs >= captureAfterMs && capturedFor !== last) {
    capturedFor = last;
    try { capture(last, stalledMs); } catch {}
  }
}, 100);
`;

/** Starts the watchdog thread; returns a function the main thread calls to tick. */
export function startStallWatchdog(o: { captureAfterMs: number; file: string }): { tick(): void; stop(): Promise<number> } {
  const sab = new SharedArrayBuffer(8);
  const beat = new BigInt64Array(sab);
  Atomics.store(beat, 0, BigInt(Date.now()));
  const worker = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: { sab, captureAfterMs: o.captureAfterMs, file: o.file, pid: process.pid },
    // Keep the thread light: it only polls a word and, rarely, talks to the inspector.
    resourceLimits: { maxOldGenerationSizeMb: 16 },
  });
  worker.unref();
  return {
    tick: () => Atomics.store(beat, 0, BigInt(Date.now())),
    stop: () => worker.terminate(),
  };
}

/** Publishes the in-flight table where the watchdog's inspector expression can read it. */
export function exposeInflight(read: () => StallReport["inflight"]): void {
  (globalThis as Record<symbol, unknown>)[Symbol.for("holdfast.inflight")] = read;
}
