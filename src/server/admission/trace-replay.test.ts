/**
 * The admission controller replayed on recorded traffic, with an injected clock: no timing in the
 * test, real arrivals in it. Each trace under test/fixtures/admission-traces/ was written by
 * HOLDFAST_ADMISSION_TRACE (trace-recorder.ts) from one worker of `holdfast serve
 * examples/notes/app.js` during `npm run bench:overload -- --trace DIR` (README.md there says when,
 * on what machine and at what load). The replay keeps each request's recorded arrival time and
 * its recorded wait in front of the worker (X-Request-Start) and models the worker as processor
 * sharing on a fixed number of cores, each request needing the CPU time of the bench's request mix
 * (cycled by index), so the controller's decisions — not the recording's — decide what runs.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { configSchema } from "../../config/schema.js";
import { Deadline } from "../../context/index.js";
import { Controller } from "./controller.js";
import type { AdmitResult, ShedReason } from "./types.js";

const FIXTURES = new URL("../../../test/fixtures/admission-traces/", import.meta.url);

/** One recorded request: when it reached admission, how long it had waited before, and (if it ran) how long it ran. */
interface TraceRow {
  arrival: number;
  hidden: number;
  service: number | undefined;
}

function readTrace(name: string): TraceRow[] {
  const rows: TraceRow[] = [];
  for (const line of readFileSync(new URL(name, FIXTURES), "utf8").split("\n").slice(1)) {
    if (!line) continue;
    const [arrival, hidden, outcome, , service] = line.split(",");
    rows.push({ arrival: Number(arrival), hidden: Number(hidden), service: outcome === "admitted" ? Number(service) : undefined });
  }
  return rows.sort((a, b) => a.arrival - b.arrival);
}

/** What one replay produced. */
interface ReplayResult {
  requests: number;
  admitted: number;
  shed: Partial<Record<ShedReason, number>>;
  shedShare: number;
  /** Completed requests per simulated second from the first second offered more than the cores can run. */
  goodput: number;
  /** The most the modelled cores can complete per second with this work mix. */
  capacity: number;
  /**
   * Share of the cores' time, over the same span, spent on requests that completed in it. Which
   * requests are admitted decides how much CPU each completion took (the mix is cycled by index), so
   * completions per second move by a few percent with any change of timing while the core stays just
   * as busy; this is what "keeps the core busy with admitted work" means.
   */
  usefulShare: number;
  /** p99 of the time admission held completed requests before they ran (queue wait), ms. */
  queuedP99: number;
  /** p99 of the time from reaching admission to the 503 decision, ms (the wait in front is the recording's, not the controller's). */
  shedDecisionP99: number;
  finalLimit: number;
}

function p99(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)] as number;
}

/**
 * Replays `rows` through a Controller on a simulated clock. The worker is `cores` CPUs shared
 * equally by the requests in flight (processor sharing); request i needs `work[i % work.length]`
 * ms of CPU. The event-loop utilisation the controller sees is the cores' busy fraction, smoothed
 * like the real guard's (0.7/0.3 every 50 ms).
 */
async function replay(rows: TraceRow[], work: number[], cores: number, admission: Record<string, unknown> = {}): Promise<ReplayResult> {
  const options = configSchema.parse({ admission: { mode: "adaptive", ...admission } }).admission;
  const clock = { t: 0 };
  const c = new Controller(options, { now: () => clock.t, eventLoopGuard: false, sweepTimer: false });
  const active: { remaining: number; done: (t: number) => void }[] = [];
  const queued: number[] = [];
  const shedDecisions: number[] = [];
  const completions: { t: number; work: number }[] = [];
  const shed: Partial<Record<ShedReason, number>> = {};
  let admitted = 0;
  let busyMs = 0;
  let lastGuard = 0;
  let busyAtGuard = 0;
  const step = Math.min(1, c.sweepMs);

  // Async so that waiters resolved by a sweep or a release are seen at the simulated time they
  // were decided (their .then runs at the next microtask checkpoint).
  const advance = async (to: number) => {
    while (clock.t < to) {
      // Exact processor sharing: step to the next completion, the next sweep tick or `to`.
      const n = active.length;
      const rate = n > 0 ? Math.min(1, cores / n) : 0;
      let dt = Math.min(step, to - clock.t);
      for (const j of active) dt = Math.min(dt, j.remaining / rate);
      if (n > 0) {
        busyMs += dt * Math.min(n, cores);
        for (const j of active) j.remaining -= dt * rate;
      }
      clock.t += dt;
      for (let k = active.length - 1; k >= 0; k--) {
        const j = active[k] as (typeof active)[number];
        if (j.remaining <= 1e-9) {
          active.splice(k, 1);
          j.done(clock.t);
        }
      }
      if (clock.t - lastGuard >= 50) {
        const util = (busyMs - busyAtGuard) / ((clock.t - lastGuard) * cores);
        c.guard.utilization = c.guard.utilization * 0.7 + util * 0.3;
        lastGuard = clock.t;
        busyAtGuard = busyMs;
      }
      c.sweep();
      await null;
    }
  };

  const origin = rows[0]?.arrival ?? 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as TraceRow;
    const at = row.arrival - origin;
    await advance(at);
    const arrivedAt = clock.t;
    const onResult = (r: AdmitResult) => {
      if (!r.admitted) {
        shed[r.reason] = (shed[r.reason] ?? 0) + 1;
        shedDecisions.push(clock.t - arrivedAt);
        return;
      }
      admitted++;
      const ticket = r.ticket;
      const startedAt = clock.t;
      queued.push(startedAt - arrivedAt);
      const need = work[i % work.length] as number;
      active.push({
        remaining: need,
        done: (t) => {
          completions.push({ t, work: need });
          ticket.release({ latencyMs: t - startedAt, ok: true });
        },
      });
    };
    const v = c.admit({ path: "/api/notes", deadline: Deadline.NONE, signal: new AbortController().signal, receivedAt: clock.t - row.hidden });
    if (v instanceof Promise) void v.then(onResult);
    else onResult(v);
    await null;
  }
  const span = (rows.at(-1)?.arrival ?? 0) - origin;
  await advance(span + 2000);
  await null;
  const meanWork = work.reduce((a, b) => a + b, 0) / work.length;
  const capacity = (cores * 1000) / meanWork;
  // Goodput is judged from the first whole second that offered more than the cores can run.
  let from = 0;
  for (let sec = 0; sec * 1000 < span; sec++) {
    const n = rows.filter((r) => r.arrival - origin >= sec * 1000 && r.arrival - origin < (sec + 1) * 1000).length;
    if (n > 1.2 * capacity) {
      from = sec * 1000;
      break;
    }
  }
  const inSpan = completions.filter((c) => c.t >= from && c.t <= span);
  const done = inSpan.length;
  const usefulMs = inSpan.reduce((a, c) => a + c.work, 0);
  const total = rows.length;
  const shedTotal = Object.values(shed).reduce((a, b) => a + (b ?? 0), 0);
  const result = {
    requests: total,
    admitted,
    shed,
    shedShare: shedTotal / total,
    goodput: (done * 1000) / Math.max(1, span - from),
    capacity,
    usefulShare: usefulMs / (cores * Math.max(1, span - from)),
    queuedP99: p99(queued),
    shedDecisionP99: p99(shedDecisions),
    finalLimit: c.status().limit,
  };
  c.close();
  return result;
}

/**
 * CPU time per request of bench:overload's mix, ms, in its order of shares: 50 % title searches
 * that scan 50 000 rows (2.75 ms in SQLite, measured here, + HTTP), 40 % point reads, 10 % inserts.
 */
const MIX_WORK = [3, 0.4, 3, 0.4, 3, 0.6, 3, 0.4, 3, 0.4];

describe("admission replayed on recorded traces", () => {
  it("quiet machine, half load: sheds nothing", async (t) => {
    const r = await replay(readTrace("quiet-0.5x.csv"), MIX_WORK, 1);
    t.diagnostic(JSON.stringify(r));
    assert.equal(r.shedShare, 0, `shed ${JSON.stringify(r.shed)} of ${r.requests}`);
  });

  it("noisy shared machine (requests held up to 400 ms in front of the worker), half load: sheds at most 0.1 %", async (t) => {
    const rows = readTrace("noisy-0.5x.csv");
    const r = await replay(rows, MIX_WORK, 1);
    t.diagnostic(JSON.stringify(r));
    assert.ok(Math.max(...rows.map((x) => x.hidden)) > 100, "the trace holds the noise it is named after");
    assert.ok(r.shedShare <= 0.001, `shed ${JSON.stringify(r.shed)} of ${r.requests}`);
  });

  it("overloaded (offered far past what the modelled core can run): keeps the core busy with admitted work, admitted p99 bounded, sheds answered within 50 ms", async (t) => {
    const rows = readTrace("overload-4x.csv");
    const r = await replay(rows, MIX_WORK, 0.5);
    t.diagnostic(JSON.stringify(r));
    assert.ok(r.shedShare > 0.2, `overload must shed (${JSON.stringify(r.shed)} of ${r.requests})`);
    assert.ok(
      r.usefulShare >= 0.9,
      `the core ran completed requests ${(r.usefulShare * 100).toFixed(1)} % of the time (goodput ${r.goodput.toFixed(1)}/s vs capacity ${r.capacity.toFixed(1)}/s)`,
    );
    assert.ok(r.shedDecisionP99 <= 50, `503 decision p99 ${r.shedDecisionP99.toFixed(1)} ms`);
    assert.ok(r.queuedP99 <= 100, `admitted requests' queue wait p99 ${r.queuedP99.toFixed(1)} ms`);
  });
});
