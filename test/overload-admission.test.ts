/**
 * Admission control inside a real node:http server (a child process, so the load generator
 * and the server do not share an event loop), under bounded open-loop load above capacity.
 *
 * The server's work is an I/O-bound resource with K = 4 slots and 20 ms service time (a
 * database with four connections, say): capacity 200 req/s, and latency that grows with
 * concurrency past K, which is what the adaptive limit must learn.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { runLoad } from "../src/load/index.js";
import { eventually } from "./support/wait.js";
import { tempDir } from "./support/temp-dir.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const SLOTS = 4;
const SERVICE_MS = 20;
const CAPACITY = (SLOTS * 1000) / SERVICE_MS;

const SERVER = `
import http from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createAdmissionController, requestStartFromHeader } from ${JSON.stringify(path.join(ROOT, "dist/server/admission/index.js"))};
import { configSchema } from ${JSON.stringify(path.join(ROOT, "dist/config/schema.js"))};
import { Deadline } from ${JSON.stringify(path.join(ROOT, "dist/context/index.js"))};

const admission = createAdmissionController(
  configSchema.parse({ admission: { ...JSON.parse(process.env.ADMISSION ?? "{}"), routes: [{ path: "/status", priority: "critical" }] } }).admission,
);
// How late this process's timers fire: on a shared machine, a starved process looks like a slow server.
const eld = monitorEventLoopDelay({ resolution: 5 });
eld.enable();
// A resource with ${SLOTS} slots, FIFO: the app's own hidden queue, as a connection pool would be.
let busy = 0;
const waiting = [];
function withSlot(fn) {
  if (busy < ${SLOTS}) { busy++; fn(); } else waiting.push(fn);
}
function freeSlot() {
  const next = waiting.shift();
  if (next) next(); else busy--;
}
const ran = new Set();
const limits = [];
let shedMs = [];
setInterval(() => limits.push(admission.status().limit), 100).unref();

http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  const ac = new AbortController();
  res.once("close", () => { if (!res.writableFinished) ac.abort(); });
  const start = performance.now();
  const receivedAt = requestStartFromHeader(req.headers["x-request-start"]);
  const verdict = admission.admit({ path: url.pathname, deadline: Deadline.after(10_000), signal: ac.signal, receivedAt });
  const go = (v) => {
    if (!v.admitted) {
      const body = JSON.stringify({ error: { code: v.error.code, message: v.error.message, reason: v.reason } });
      res.writeHead(503, { "content-type": "application/json", "retry-after": String(v.error.retryAfter) });
      res.end(body);
      shedMs.push(performance.now() - start);
      return;
    }
    res.once("close", () => v.ticket.release({ latencyMs: performance.now() - start, ok: res.statusCode < 500 }));
    if (url.pathname === "/healthz") return res.end("ok");
    if (url.pathname === "/status") {
      const sorted = shedMs.sort((a, b) => a - b);
      const shedP99 = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] : 0;
      shedMs = [];
      const timerLateP99 = Math.max(0, eld.percentile(99) / 1e6 - 5);
      eld.reset();
      return res.end(JSON.stringify({ ...admission.status(), limits: limits.splice(0), ran: [...ran], shedP99, timerLateP99 }));
    }
    if (url.pathname === "/mark") ran.add(url.searchParams.get("id"));
    if (url.pathname === "/spin") {
      const end = performance.now() + Number(url.searchParams.get("ms") ?? 2);
      while (performance.now() < end);
      return res.end("spun");
    }
    withSlot(() => setTimeout(() => { freeSlot(); res.end("done"); }, Number(url.searchParams.get("ms") ?? ${SERVICE_MS})));
  };
  if (verdict instanceof Promise) verdict.then(go); else go(verdict);
}).listen(0, "127.0.0.1", function () { process.stdout.write(this.address().port + "\\n"); });
`;

const children: ChildProcess[] = [];

/** Starts the test server with `admission` config; resolves to its base URL. */
async function startServer(admission: Record<string, unknown>): Promise<string> {
  const dir = tempDir("hf-overload-");
  const file = path.join(dir, "server.mjs");
  writeFileSync(file, SERVER);
  const child = spawn(process.execPath, [file], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ADMISSION: JSON.stringify(admission) },
  });
  children.push(child);
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  return `http://127.0.0.1:${chunk.toString().trim()}`;
}

let base = "";
let fixedBase = "";
before(async () => {
  [base, fixedBase] = await Promise.all([
    startServer({ mode: "adaptive" }),
    // One slot, a long queue wait allowed: a second request surely queues.
    startServer({ mode: "fixed", limit: 1, queueSize: 10, queueTarget: "5s", queueInterval: "10s" }),
  ]);
});
after(() => {
  for (const c of children) c.kill("SIGKILL");
});

interface Status {
  limit: number;
  limits: number[];
  /** p99 of the server's own time to answer a 503 (listener → end), ms. */
  shedP99: number;
  /** p99 of how late the server's 5 ms timers fired (CPU starvation by other processes), ms. */
  timerLateP99: number;
  shed: Record<string, number>;
  ran: string[];
}
const status = async (b = base): Promise<Status> => (await (await fetch(`${b}/status`)).json()) as Status;

describe("admission control under overload (real http server, I/O-bound work)", () => {
  it("at 4× capacity: 503s in < 50 ms at p99, admitted p99 within unloaded p99 + 150 ms, limit converges into [K, 5K] (median), /healthz never shed", async (t) => {
    // Warm up and teach the baseline at low load.
    await runLoad({ url: `${base}/work`, rate: CAPACITY * 0.25, durationMs: 1000, connections: 64 });
    const unloaded = await runLoad({ url: `${base}/work`, rate: CAPACITY * 0.5, durationMs: 2000, connections: 64 });
    assert.equal(unloaded.status["200"], unloaded.sent, "no shedding at half capacity");
    await status(); // drop the warm-up limit trace

    // Overload starts: the limit converges from its initial value (not asserted on latency).
    const health = runLoad({ url: `${base}/healthz`, rate: 40, durationMs: 7000, connections: 8 });
    const ramp = await runLoad({ url: `${base}/work`, rate: CAPACITY * 4, durationMs: 2000, connections: 256, timeoutMs: 15_000 });
    assert.ok((ramp.status["503"] ?? 0) > 0, "shedding started");
    await status(); // the measured window starts here
    const loaded = await runLoad({ url: `${base}/work`, rate: CAPACITY * 4, durationMs: 5000, connections: 256, timeoutMs: 15_000 });
    const h = await health;
    const s = await status();
    // The generator shares two cores with the server and whatever else runs: when it fell behind its own
    // schedule, its latencies include its own stalls, so the client-side bounds are judged only when it kept up.
    const generatorKeptUp = loaded.schedule_lag_ms.p99 < 10 && unloaded.schedule_lag_ms.p99 < 10;
    if (!generatorKeptUp) {
      t.diagnostic(
        `load generator fell behind (schedule lag p99 ${loaded.schedule_lag_ms.p99} ms): client-side latency bounds not judged; server-side 503 p99 ${s.shedP99} ms`,
      );
    }

    const shed = loaded.latency_ms.by_status["503"];
    t.diagnostic(
      `4×: sent ${loaded.sent}, status ${JSON.stringify(loaded.status)}, 503 p99 ${shed?.p99} ms (server-side ${s.shedP99?.toFixed(1)} ms), 2xx p99 ${loaded.latency_ms.ok.p99} ms vs unloaded ${unloaded.latency_ms.ok.p99} ms, goodput ${loaded.goodput_rps}/s, limit ${Math.min(...s.limits.slice(-50))}..${Math.max(...s.limits.slice(-50))}, generator lag p99 ${loaded.schedule_lag_ms.p99} ms`,
    );
    assert.ok(shed && shed.count > loaded.sent * 0.5, `most of 4× must be shed (503s: ${shed?.count} of ${loaded.sent})`);
    if (s.timerLateP99 < 10) assert.ok(s.shedP99 < 50, `server-side 503 p99 ${s.shedP99} ms (must be < 50 ms)`);
    else t.diagnostic(`server process was starved of CPU (timer lateness p99 ${s.timerLateP99} ms): server-side 503 p99 ${s.shedP99} ms not judged`);
    if (generatorKeptUp) {
      assert.ok(shed.p99 < 50, `503 p99 ${shed.p99} ms at the client (must be < 50 ms)`);
      const bound = unloaded.latency_ms.ok.p99 + 150;
      assert.ok(
        loaded.latency_ms.ok.p99 <= bound,
        `admitted p99 ${loaded.latency_ms.ok.p99} ms > bound ${bound} ms (unloaded p99 ${unloaded.latency_ms.ok.p99} + 150)`,
      );
      assert.ok(loaded.goodput_rps > CAPACITY * 0.7, `goodput ${loaded.goodput_rps}/s at 4× (capacity ${CAPACITY}/s)`);
    }
    // The limit, sampled every 100 ms over the measured 5 s of sustained overload.
    const tail = s.limits.slice(-50);
    assert.ok(tail.length >= 20, `limit samples ${tail.length}`);
    // Equilibrium (docs/overload.md): L = 1.5·K + S·K/s + sqrt(L) with slack S = queueTarget / 4 = 5 ms and
    // s = 20 ms: L ≈ 10 for K = 4. Stated bound, with room for window noise: [K, 5K], for the median and
    // the highest sample. A process starved of CPU (the other test files running beside it) reads its own stalls
    // as latency and may dip below K for a window: beside three busy loops (2026-12-01) the lowest sample
    // was 2 or 3 in 6 of 8 runs, goodput 130-175/s of 200; below K/2 would be a collapse (it was 1,
    // goodput 40-91/s, while health checks still taught the limit: controller.ts, released()).
    const sorted = [...tail].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    assert.ok(
      median >= SLOTS && median <= 5 * SLOTS && sorted[sorted.length - 1] <= 5 * SLOTS && sorted[0] >= SLOTS / 2,
      `limit ${sorted[0]}..${sorted[sorted.length - 1]} (median ${median}) not within [${SLOTS}, ${5 * SLOTS}] (median and highest; lowest at least ${SLOTS / 2})`,
    );
    assert.equal(h.status["200"], h.sent, `/healthz: ${JSON.stringify(h.status)}`);
    assert.equal(loaded.status.error ?? 0, 0, "no connection errors");
  });

  it("a CPU-bound handler at 3×: with X-Request-Start the hidden socket queue is shed, without it admitted latency grows", async (t) => {
    // 2 ms of synchronous work per request: admission never sees more than one in flight, the queue is in
    // the sockets. Fresh servers for each run so one run's backlog cannot leak into the other.
    const results: Record<string, { p99: number; shedP99: number | undefined; goodput: number; status: Record<string, number>; lag: number }> = {};
    let cap = 0;
    for (const stamp of [false, true]) {
      const url = await startServer({ mode: "adaptive" });
      if (cap === 0) cap = (await runLoad({ url: `${url}/spin?ms=2`, mode: "closed", connections: 4, durationMs: 1500 })).throughput_rps;
      const r = await runLoad({
        url: `${url}/spin?ms=2`,
        rate: Math.round(cap * 3),
        durationMs: 4000,
        connections: 512,
        timeoutMs: 20_000,
        stampRequestStart: stamp,
      });
      results[stamp ? "stamped" : "plain"] = {
        p99: r.p99_ms,
        shedP99: r.latency_ms.by_status["503"]?.p99,
        goodput: r.goodput_rps,
        status: r.status,
        lag: r.schedule_lag_ms.p99,
      };
    }
    t.diagnostic(`capacity ${cap}/s; ${JSON.stringify(results)}`);
    const { plain, stamped } = results as Record<"plain" | "stamped", { p99: number; goodput: number; status: Record<string, number> }>;
    assert.equal(stamped.status.error ?? 0, 0);
    assert.ok(stamped.p99 < plain.p99, `admitted p99 with X-Request-Start ${stamped.p99} ms, without ${plain.p99} ms`);
    // Without the header the worker "serves" everything, seconds late (its goodput counts answers long after
    // any proxy would have given up); with it, what it serves is fast and a real share of capacity.
    assert.ok(stamped.goodput >= cap * 0.25, `goodput with X-Request-Start ${stamped.goodput}/s of capacity ${cap}/s`);
  });

  it("a queued request whose client disconnects is dropped and never run", async () => {
    const hold = fetch(`${fixedBase}/work?ms=1000`).then((r) => r.text());
    // In flight: the held request and this /status request itself (critical, never queued).
    await eventually(async () => (await status(fixedBase)).inflight === 2, 5_000, "the first request holding the slot");
    const ac = new AbortController();
    const gone = fetch(`${fixedBase}/mark?id=gone-1`, { signal: ac.signal }).then(
      (r) => r.status,
      () => "aborted",
    );
    await eventually(async () => (await status(fixedBase)).queued === 1, 5_000, "the second request queued behind the first");
    ac.abort();
    assert.equal(await gone, "aborted");
    assert.equal(await hold, "done");
    // The slot is free now. Had the gone request stayed queued, admission would have started it the
    // moment the first request released its slot, before this later request was even sent.
    assert.equal((await fetch(`${fixedBase}/mark?id=after-1`)).status, 200);
    const s = await status(fixedBase);
    assert.ok(s.ran.includes("after-1"), "the later request ran");
    assert.ok(!s.ran.includes("gone-1"), "the abandoned request ran");
    assert.equal(s.shed["client-gone"], 1);
    assert.equal(s.inflight, 1, "only the /status request itself is in flight");
  });
});
