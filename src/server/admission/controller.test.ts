import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configSchema } from "../../config/schema.js";
import { Deadline } from "../../context/index.js";
import { type AdmissionDeps, type AdmissionOptions, Controller } from "./controller.js";
import { DrainRate } from "./drain-rate.js";
import { EventLoopGuard, nextDropProbability } from "./event-loop-guard.js";
import { requestStartFromHeader } from "./request-start.js";
import { RoutePriorities } from "./route-priorities.js";
import type { AdmitResult } from "./types.js";

function options(o: Record<string, unknown> = {}): AdmissionOptions {
  return configSchema.parse({ admission: { mode: "fixed", limit: 2, queueSize: 3, queueTarget: "20ms", queueInterval: "100ms", ...o } }).admission;
}

function make(o: Record<string, unknown> = {}, deps: AdmissionDeps = {}) {
  const clock = { t: 1000 };
  const c = new Controller(options(o), { now: () => clock.t, eventLoopGuard: false, ...deps });
  return { c, clock };
}

function req(path = "/x", deadline = Deadline.NONE, signal = new AbortController().signal) {
  return { path, deadline, signal };
}

function sync(r: AdmitResult | Promise<AdmitResult>): AdmitResult {
  assert.ok(!(r instanceof Promise), "expected a synchronous answer");
  return r;
}

function granted(r: AdmitResult) {
  assert.ok(r.admitted, `expected admitted, got ${r.admitted ? "" : r.reason}`);
  return r.ticket;
}

/** Requests one at a time, each `ms` long and `gapMs` apart: the baseline an unloaded worker learns. */
function teachBaseline(c: Controller, clock: { t: number }, ms: number, gapMs: number): void {
  for (let i = 0; i < 30; i++) {
    const t = granted(sync(c.admit(req())));
    clock.t += ms;
    t.release({ latencyMs: ms, ok: true });
    clock.t += gapMs;
  }
}

/**
 * 300 rounds at the limit: admit until refused, run `meanwhile(round)`, then every admitted request
 * ends after `latency(in flight)` ms.
 */
function saturate(c: Controller, clock: { t: number }, latency: (inflight: number) => number, meanwhile?: (round: number) => void): void {
  for (let round = 0; round < 300; round++) {
    const tickets = [];
    for (;;) {
      const r = sync(c.admit(req()));
      if (!r.admitted) break;
      tickets.push(r.ticket);
    }
    meanwhile?.(round);
    clock.t += latency(tickets.length);
    for (const t of tickets) t.release({ latencyMs: 0, ok: true });
  }
}

describe("admission controller", () => {
  it("admits synchronously while under the limit and counts in-flight", () => {
    const { c } = make();
    const t1 = granted(sync(c.admit(req())));
    granted(sync(c.admit(req())));
    assert.equal(c.status().inflight, 2);
    t1.release({ latencyMs: 1, ok: true });
    assert.equal(c.status().inflight, 1);
    t1.release({ latencyMs: 1, ok: true }); // double release is ignored, not double-counted
    assert.equal(c.status().inflight, 1);
  });

  it("queues past the limit and runs the waiter when a slot frees", async () => {
    const { c } = make();
    const t1 = granted(sync(c.admit(req())));
    granted(sync(c.admit(req())));
    const p = c.admit(req());
    assert.ok(p instanceof Promise);
    assert.equal(c.status().queued, 1);
    t1.release({ latencyMs: 1, ok: true });
    const r = await p;
    assert.ok(r.admitted);
    assert.equal(c.status().queued, 0);
  });

  it("sheds at once with 503 OVERLOADED and an integer Retry-After when the queue is full", () => {
    const { c } = make();
    for (let i = 0; i < 2; i++) granted(sync(c.admit(req())));
    for (let i = 0; i < 3; i++) c.admit(req());
    const r = sync(c.admit(req()));
    assert.ok(!r.admitted);
    assert.equal(r.reason, "queue-full");
    assert.equal(r.error.code, "OVERLOADED");
    assert.equal(r.error.httpStatus, 503);
    assert.ok(Number.isInteger(r.error.retryAfter) && (r.error.retryAfter ?? 0) >= 1 && (r.error.retryAfter ?? 0) <= 30);
    assert.equal(c.status().shed["queue-full"], 1);
  });

  it("never sheds critical routes (health checks and configured ones), even far past the limit", () => {
    const { c } = make({ routes: [{ path: "/admin", priority: "critical" }], queueSize: 0 });
    for (let i = 0; i < 2; i++) granted(sync(c.admit(req())));
    for (let i = 0; i < 50; i++) {
      granted(sync(c.admit(req("/healthz"))));
      granted(sync(c.admit(req("/readyz"))));
      granted(sync(c.admit(req("/admin/users"))));
    }
    c.guard.level = 2;
    granted(sync(c.admit(req("/healthz"))));
  });

  it("sheds sheddable routes first: at the limit they never queue", () => {
    const { c } = make({ routes: [{ path: "/export", priority: "sheddable" }] });
    for (let i = 0; i < 2; i++) granted(sync(c.admit(req())));
    const r = sync(c.admit(req("/export/csv")));
    assert.ok(!r.admitted && r.reason === "limit");
    assert.ok(c.admit(req("/other")) instanceof Promise);
  });

  it("drops a queued request whose client went away and never runs it", async () => {
    const { c } = make();
    const t1 = granted(sync(c.admit(req())));
    granted(sync(c.admit(req())));
    const ac = new AbortController();
    const p = c.admit(req("/x", Deadline.NONE, ac.signal));
    ac.abort();
    const r = await p;
    assert.ok(!r.admitted && r.reason === "client-gone");
    assert.equal(c.status().queued, 0);
    t1.release({ latencyMs: 1, ok: true });
    assert.equal(c.status().inflight, 1, "the freed slot was not given to the gone client");
    assert.equal(c.status().shed["client-gone"], 1);
  });

  it("sheds a request already gone before admission", () => {
    const { c } = make();
    const ac = new AbortController();
    ac.abort();
    const r = sync(c.admit(req("/x", Deadline.NONE, ac.signal)));
    assert.ok(!r.admitted && r.reason === "client-gone");
  });

  it("drops queued requests whose deadline can no longer be met", async () => {
    const { c } = make();
    granted(sync(c.admit(req())));
    granted(sync(c.admit(req())));
    const r0 = sync(c.admit(req("/x", new Deadline(performance.now() - 1))));
    assert.ok(!r0.admitted && r0.reason === "deadline", "an expired deadline is not queued");
    const p = c.admit(req("/x", new Deadline(performance.now() + 5)));
    await new Promise((r) => setTimeout(r, 10));
    c.sweep();
    const r = await p;
    assert.ok(!r.admitted && r.reason === "deadline");
  });

  it("outside overload a waiter is shed at the last sweep before the lenient bound (2 × target), not at the first sweep after it", async () => {
    const { c, clock } = make({ queueTarget: "20ms", queueInterval: "100ms" }, { sweepTimer: false });
    granted(sync(c.admit(req())));
    granted(sync(c.admit(req())));
    let answer: AdmitResult | undefined;
    void (c.admit(req()) as Promise<AdmitResult>).then((r) => {
      answer = r;
    });
    const start = clock.t;
    let shedAt = Number.NaN;
    // Sweeps every 5 ms, as the timer runs them: at 40 + 5 ms the 503 would be a period late.
    for (let i = 0; i < 12 && Number.isNaN(shedAt); i++) {
      clock.t += 5;
      c.sweep();
      await null;
      if (answer) shedAt = clock.t - start;
    }
    assert.ok(answer && !answer.admitted && answer.reason === "queue-delay", "shed for waiting");
    assert.ok(shedAt > 30 && shedAt <= 40, `shed after ${shedAt} ms of waiting; the bound is 40`);
    assert.equal(c.status().overloaded, false, "one long wait is not overload");
  });

  it("sheds by queueing delay: a burst may wait 2 × target; a standing queue (the head waited a whole interval) only target, for as long as it stands", async () => {
    const { c, clock } = make({ queueTarget: "20ms", queueInterval: "100ms" });
    const t1 = granted(sync(c.admit(req())));
    granted(sync(c.admit(req())));
    const early = c.admit(req());
    clock.t += 30; // within 2 × target (40 ms): a burst, it still waits
    c.sweep();
    assert.equal(c.status().queued, 1);
    clock.t += 15; // 45 ms > 40 ms: a 503 now rather than a slow one later
    c.sweep();
    const r = await early;
    assert.ok(!r.admitted && r.reason === "queue-delay");
    assert.equal(c.status().overloaded, false, "one long wait is not overload");
    // A standing queue: a new waiter every 10 ms while nothing completes; the head reaches 40 ms and
    // is shed, the next becomes the head… until the queue has stood a whole interval.
    const waiters: Promise<AdmitResult>[] = [];
    for (let i = 0; i < 15 && !c.status().overloaded; i++) {
      waiters.push(c.admit(req()) as Promise<AdmitResult>);
      clock.t += 10;
      c.sweep();
    }
    // (the lenient bound sheds each head at 40 ms, so no single waiter reaches the interval:
    // the run of waits above target is what proves the queue stands)
    assert.equal(c.status().overloaded, true);
    // While overloaded, a wait past target (20 ms) is shed…
    const late = c.admit(req());
    clock.t += 25;
    c.sweep();
    const lr = await late;
    assert.ok(!lr.admitted && lr.reason === "queue-delay");
    // …and a fresh one runs on the next free slot.
    const fresh = c.admit(req());
    t1.release({ latencyMs: 1, ok: true });
    assert.ok((await fresh).admitted);
    for (const w of waiters) await w;
    // A second with no wait past target ends the overload.
    clock.t += 1100;
    c.sweep();
    assert.equal(c.status().overloaded, false);
  });

  it("refuses at once under sustained overload (FIFO) a request that would wait longer than the target at the measured drain rate", async () => {
    const { c, clock } = make({ limit: 1, queueSize: 100, queueTarget: "50ms", queueInterval: "100ms" }, { adaptiveLifo: false });
    // 100 completions/s for 2 s.
    for (let i = 0; i < 200; i++) {
      const t = granted(sync(c.admit(req())));
      clock.t += 10;
      t.release({ latencyMs: 10, ok: true });
    }
    granted(sync(c.admit(req())));
    // Not overloaded yet: a burst queues, however long the estimate.
    const burst: Promise<AdmitResult>[] = [];
    for (let i = 0; i < 20; i++) burst.push(c.admit(req()) as Promise<AdmitResult>);
    assert.ok(burst.every((p) => p instanceof Promise));
    clock.t += 120; // the head waited a whole interval: overload
    c.sweep();
    assert.equal(c.status().overloaded, true);
    let queued = 0;
    let r: AdmitResult | Promise<AdmitResult>;
    for (;;) {
      r = c.admit(req());
      if (!(r instanceof Promise)) break;
      queued++;
    }
    assert.ok(queued <= 5, `queued ${queued}: at most about 50 ms of work at 100/s`);
    assert.ok(!r.admitted && r.reason === "queue-delay");
  });

  it("serves newest first under sustained overload (adaptive LIFO), oldest first otherwise", async () => {
    const order: string[] = [];
    for (const lifo of [true, false]) {
      const { c, clock } = make({ queueTarget: "1s", queueInterval: "100ms" }, { adaptiveLifo: lifo });
      const t = [granted(sync(c.admit(req()))), granted(sync(c.admit(req())))];
      const first = c.admit(req());
      clock.t += 150; // the head waited a whole interval: a standing queue
      c.sweep();
      const second = c.admit(req());
      void first.then((r) => r.admitted && order.push(`${lifo}:first`));
      void second.then((r) => r.admitted && order.push(`${lifo}:second`));
      t[0]?.release({ latencyMs: 1, ok: true });
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(order, ["true:second", "false:first"]);
  });

  it("under sustained overload a full queue drops its oldest waiter for the new request", async () => {
    const { c, clock } = make({ queueTarget: "1s" });
    granted(sync(c.admit(req())));
    granted(sync(c.admit(req())));
    const oldest = c.admit(req());
    c.admit(req());
    c.admit(req());
    clock.t += 150;
    c.sweep(); // the head waited a whole interval: sustained overload
    const fresh = c.admit(req());
    assert.ok(fresh instanceof Promise);
    const r = await oldest;
    assert.ok(!r.admitted && r.reason === "queue-full");
  });

  it("grades the event-loop guard: level 1 sheds sheddable only, level 2 all but critical", () => {
    const { c } = make({ routes: [{ path: "/bulk", priority: "sheddable" }] });
    c.guard.level = 1;
    assert.equal(sync(c.admit(req("/bulk"))).admitted, false);
    granted(sync(c.admit(req("/x"))));
    c.guard.level = 2;
    const r = sync(c.admit(req("/x")));
    assert.ok(!r.admitted && r.reason === "event-loop");
    granted(sync(c.admit(req("/healthz"))));
  });

  it("raises the event-loop drop probability while delay or utilisation is above threshold, gives it back when quiet", () => {
    const o = { delayMs: 50, utilization: 0.95 };
    let p = 0;
    const trace: number[] = [];
    for (let i = 0; i < 10; i++) {
      p = nextDropProbability(p, 150, 150, 1, o);
      trace.push(p);
    }
    assert.ok(
      trace.every((v, i) => i === 0 || v >= (trace[i - 1] ?? 0)),
      "monotone while above",
    );
    assert.equal(p, 1, "far above the threshold for 1 s sheds every non-critical request");
    for (let i = 0; i < 200; i++) p = nextDropProbability(p, 5, 5, 0.3, o);
    assert.equal(p, 0, "recovers once the loop is quiet");
    for (let i = 0; i < 5; i++) p = nextDropProbability(p, 5, 5, 0.99, o);
    assert.ok(p > 0.25 && p < 0.35, `saturated utilisation steps up (${p})`);
    const held = p;
    p = nextDropProbability(p, 5, 5, 0.93, o);
    assert.equal(p, held, "just under the threshold: hold, do not flap");
    const g = new EventLoopGuard(o);
    g.dropProbability = 0.5;
    assert.ok(g.sheds(true) && !g.sheds(false));
    g.dropProbability = 0.75;
    let shedNormal = 0;
    for (let i = 0; i < 2000; i++) if (g.sheds(false)) shedNormal++;
    assert.ok(shedNormal > 850 && shedNormal < 1150, `normal routes shed ${shedNormal}/2000 at p=0.75 (expected ~1000)`);
  });

  it("ready() forgets the event-loop pressure of start-up (loading the app is not overload)", () => {
    const { c } = make();
    c.guard.dropProbability = 1; // what a second of importing and compiling the app can leave behind
    c.guard.utilization = 1;
    assert.equal(sync(c.admit(req("/x"))).admitted, false);
    c.ready();
    assert.equal(c.guard.dropProbability, 0);
    granted(sync(c.admit(req("/x"))));
  });

  it("mode off admits everything; fixed mode holds its limit", () => {
    const off = make({ mode: "off" }).c;
    for (let i = 0; i < 100; i++) granted(sync(off.admit(req())));
    const fixed = make({ mode: "fixed", limit: 3, queueSize: 0 }).c;
    for (let i = 0; i < 3; i++) granted(sync(fixed.admit(req())));
    const r = sync(fixed.admit(req()));
    assert.ok(!r.admitted && r.reason === "limit");
    assert.equal(fixed.status().limit, 3);
  });

  it("adaptive mode learns a lower limit when latency rises with concurrency", () => {
    const { c, clock } = make({ mode: "adaptive", limit: 100, minLimit: 4, maxLimit: 1000, queueSize: 0 }, { limit: { probeIntervalMs: 0 } });
    // Unloaded: 2 ms requests one at a time teach the baseline.
    teachBaseline(c, clock, 2, 10);
    // Saturated CPU-bound worker: latency = 2 ms × in-flight.
    saturate(c, clock, (n) => 2 * n);
    // Equilibrium with slack S = queueTarget / 4 (5 ms), baseline b = 2 ms, latency 2 ms × L:
    // (1.5·b + S) / (2·L) · L + sqrt(L) = L  →  L = 4 + sqrt(L) ≈ 6.6.
    const limit = c.status().limit;
    assert.ok(limit >= 5 && limit <= 9, `limit ${limit}`);
  });

  it("health checks admitted past the limit teach it nothing: a saturated 4-slot service keeps its limit while bursts of 0 ms /healthz answers fill whole windows", () => {
    const learned = (healthPerBurst: number) => {
      const { c, clock } = make({ mode: "adaptive", limit: 20, minLimit: 1, maxLimit: 1000, queueSize: 0 }, { limit: { probeIntervalMs: 0 } });
      teachBaseline(c, clock, 20, 5);
      // Four slots of 20 ms: latency grows with in-flight past 4. Health checks arrive together
      // (several checkers, each on its own period) every 25th round, while the slots are full.
      saturate(
        c,
        clock,
        (n) => 20 * Math.max(1, n / 4),
        (round) => {
          for (let h = 0; round % 25 === 0 && h < healthPerBurst; h++) {
            const t = granted(sync(c.admit(req("/healthz"))));
            clock.t += 0.1;
            t.release({ latencyMs: 0.1, ok: true });
          }
        },
      );
      return c.status().limit;
    };
    const without = learned(0);
    const withHealth = learned(15);
    assert.ok(without >= 4, `limit without health checks ${without}`);
    assert.ok(withHealth >= without - 1, `limit ${withHealth} with bursts of 15 health checks, ${without} without`);
  });
});

describe("route priorities", () => {
  it("matches the longest prefix on path-segment boundaries", () => {
    const p = new RoutePriorities([
      { path: "/api", priority: "sheddable" },
      { path: "/api/orders", priority: "critical" },
    ]);
    assert.equal(p.of("/api/x"), "sheddable");
    assert.equal(p.of("/api"), "sheddable");
    assert.equal(p.of("/apix"), "normal");
    assert.equal(p.of("/api/orders/7"), "critical");
    assert.equal(p.of("/healthz"), "critical");
  });

  it("keeps health checks critical even when configured otherwise", () => {
    assert.equal(new RoutePriorities([{ path: "/healthz", priority: "sheddable" }]).of("/healthz"), "critical");
  });
});

describe("drain rate → Retry-After", () => {
  it("is the time to drain the work ahead at the measured completion rate, clamped 1..30 s", () => {
    const d = new DrainRate(0);
    assert.equal(d.retryAfter(0, 10), 30, "nothing completed yet: the longest honest answer");
    let t = 0;
    // 1000/s for 4 s
    for (let i = 0; i < 4000; i++) {
      t += 1;
      d.completed(t);
    }
    assert.ok(Math.abs(d.perSecond - 1000) < 50, `rate ${d.perSecond}`);
    assert.equal(d.retryAfter(t, 10), 1);
    assert.equal(d.retryAfter(t, 4500), 5);
    assert.equal(d.retryAfter(t, 1e9), 30);
  });
});

describe("time before admission (X-Request-Start)", () => {
  it("parses seconds (nginx $msec), milliseconds and microseconds onto the performance clock", () => {
    const epoch = 1_700_000_000_000;
    assert.equal(requestStartFromHeader("t=1700000000.000", epoch + 250, 5000), 4750);
    assert.equal(requestStartFromHeader("t=1700000000000", epoch + 40, 5000), 4960);
    assert.equal(requestStartFromHeader("t=1700000000000000", epoch + 10, 5000), 4990);
    assert.equal(requestStartFromHeader(undefined, epoch, 5000), undefined);
    assert.equal(requestStartFromHeader("t=abc", epoch, 5000), undefined);
    assert.equal(requestStartFromHeader("t=1600000000.000", epoch, 5000), undefined, "a clock that disagrees by days is ignored");
  });

  it("counts the wait in front of a saturated worker as sojourn: one long wait is admitted, a standing one is shed at once, never a critical request", () => {
    const { c, clock } = make({ limit: 100, queueTarget: "20ms", queueInterval: "100ms" });
    // Each admitted request finishes at once: the worker keeps up; only the wait in front of it varies.
    const late = (ms: number) => {
      const r = sync(c.admit({ ...req(), receivedAt: clock.t - ms }));
      if (r.admitted) r.ticket.release({ latencyMs: 1, ok: true });
      return r;
    };
    // An idle worker (loop 20 % busy, slots free): requests held up in front of it — a stalled
    // proxy or machine — for 200 ms on end are all admitted; refusing them would free nothing here.
    c.guard.utilization = 0.2;
    for (let i = 0; i < 100; i++) {
      clock.t += 2;
      granted(late(60));
    }
    assert.equal(c.status().overloaded, false);
    // A saturated worker (loop 95 % busy): a scheduler stall delays a few requests, then it is gone…
    c.guard.utilization = 0.95;
    for (let i = 0; i < 5; i++) granted(late(80));
    clock.t += 2;
    granted(late(1));
    assert.equal(c.status().overloaded, false);
    // …but a backlog that stands for a whole interval is overload: from then on, late requests are shed at once.
    let shed = 0;
    for (let i = 0; i < 60; i++) {
      clock.t += 2;
      const r = late(60);
      if (!r.admitted) {
        assert.equal(r.reason, "queue-delay");
        shed++;
      }
    }
    assert.equal(c.status().overloaded, true);
    assert.ok(shed >= 5 && shed <= 10, `shed ${shed}: from one interval into the standing delay on`);
    granted(sync(c.admit({ ...req("/healthz"), receivedAt: clock.t - 5000 })));
  });
});

describe("adaptive LIFO", () => {
  /**
   * Simulated 2× overload on one slot: a request every 5 ms, 10 ms of work each, clients that give up
   * after 300 ms, a queue allowed to hold waits of up to 2 s (a long queueTarget; interval 1 s). Returns how many
   * requests started while their client was still waiting (goodput) and how many started too late.
   */
  async function simulate(lifo: boolean): Promise<{ useful: number; late: number }> {
    const { c, clock } = make({ limit: 1, queueSize: 1000, queueTarget: "2s", queueInterval: "1s" }, { adaptiveLifo: lifo, sweepTimer: false });
    let useful = 0;
    let late = 0;
    let busyUntil = 0;
    let current: { release(o: { latencyMs: number; ok: boolean }): void } | undefined;
    const started = (r: AdmitResult) => {
      if (!r.admitted) return;
      if (r.queuedMs <= 300) useful++;
      else late++;
      current = r.ticket;
      busyUntil = clock.t + 10;
    };
    for (let step = 0; step < 1000; step++) {
      clock.t = 1000 + step * 5;
      if (current && clock.t >= busyUntil) {
        const t = current;
        current = undefined;
        t.release({ latencyMs: 10, ok: true });
        await new Promise((r) => setImmediate(r));
      }
      const v = c.admit(req());
      if (v instanceof Promise) void v.then(started);
      else started(v);
      c.sweep();
      await new Promise((r) => setImmediate(r));
    }
    c.close();
    return { useful, late };
  }

  it("serves more requests within client patience than FIFO when queue waits are long (simulated 2× overload)", async (t) => {
    const fifo = await simulate(false);
    const lifo = await simulate(true);
    t.diagnostic(`useful starts: LIFO ${lifo.useful} (late ${lifo.late}), FIFO ${fifo.useful} (late ${fifo.late})`);
    assert.ok(lifo.useful > fifo.useful * 1.5, `useful starts: LIFO ${lifo.useful} (late ${lifo.late}), FIFO ${fifo.useful} (late ${fifo.late})`);
  });
});
