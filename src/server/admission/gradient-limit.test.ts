import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GradientLimit } from "./gradient-limit.js";

/**
 * A service with `slots` parallel servers of service time `s` under saturated demand (as many
 * requests in flight as the limit allows): latency = s × max(1, L / slots), processor sharing.
 * Runs `rounds` rounds of L completions and returns the limit after each round.
 */
function saturate(lim: GradientLimit, slots: number, s: number, rounds: number, clock: { t: number }): number[] {
  const trace: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const L = lim.limit;
    const lat = s * Math.max(1, L / slots);
    clock.t += lat;
    for (let i = 0; i < L; i++) {
      lim.sample(clock.t, lat, L - i, true, lim.epoch);
      lim.inflightChanged(L - i - 1);
    }
    trace.push(lim.limit);
  }
  return trace;
}

/** 20 requests of 5 ms, one every 10 ms at `inflight` concurrency: a baseline learned at light load. */
function teachBaseline(lim: GradientLimit, clock: { t: number }, inflight: number): void {
  for (let i = 0; i < 20; i++) {
    clock.t += 10;
    lim.sample(clock.t, 5, inflight, true, 0);
  }
}

describe("GradientLimit", () => {
  // The bound proven here: with saturated demand on K slots, the limit settles where
  // L = 1.5·K + sqrt(L) (gradient × L + headroom = L), i.e. between K and 2.5·K, from any start.
  for (const initial of [4, 64, 900]) {
    it(`converges into [K, 2.5K] for K=16 slots from initial ${initial}`, () => {
      const clock = { t: 0 };
      const lim = new GradientLimit({ initial, min: 4, max: 1000, probeIntervalMs: 0, slackMs: 0 }, 0);
      // Teach the baseline first at low load (as a real worker sees before traffic peaks).
      teachBaseline(lim, clock, 1);
      const trace = saturate(lim, 16, 5, 600, clock);
      const tail = trace.slice(-100);
      assert.ok(Math.min(...tail) >= 16 && Math.max(...tail) <= 40, `limit tail ${Math.min(...tail)}..${Math.max(...tail)}`);
    });
  }

  it("under sustained overload it drops the headroom: one CPU-bound slot ends within [K, 3K] (latency at most 1.5× baseline plus one headroom step), not at Gradient2's floor of 4 (outside overload it stays near 4)", () => {
    const run = (overloaded: boolean) => {
      const clock = { t: 0 };
      const lim = new GradientLimit({ initial: 20, min: 1, max: 1000, probeIntervalMs: 0, slackMs: 0 }, 0);
      teachBaseline(lim, clock, 1);
      lim.overloaded = overloaded;
      return saturate(lim, 1, 5, 400, clock).slice(-100);
    };
    const over = run(true);
    assert.ok(Math.min(...over) >= 1 && Math.max(...over) <= 3, `overloaded: limit tail ${Math.min(...over)}..${Math.max(...over)}`);
    const calm = run(false);
    assert.ok(Math.min(...calm) >= 3 && Math.max(...calm) <= 5, `not overloaded: limit tail ${Math.min(...calm)}..${Math.max(...calm)}`);
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    assert.ok(mean(over) < mean(calm) - 1, `mean limit overloaded ${mean(over)} vs not ${mean(calm)}`);
  });

  it("with an absolute slack S the equilibrium moves to L = 1.5K + S·K/s + sqrt(L): K=16, s=5 ms, S=5 ms → about 47", () => {
    const clock = { t: 0 };
    const lim = new GradientLimit({ initial: 64, min: 4, max: 1000, probeIntervalMs: 0, slackMs: 5 }, 0);
    teachBaseline(lim, clock, 1);
    const tail = saturate(lim, 16, 5, 600, clock).slice(-100);
    assert.ok(Math.min(...tail) >= 40 && Math.max(...tail) <= 55, `limit tail ${Math.min(...tail)}..${Math.max(...tail)}`);
  });

  it("grows to maxLimit when latency does not rise with concurrency (no queueing inside)", () => {
    const clock = { t: 0 };
    const lim = new GradientLimit({ initial: 10, min: 4, max: 200, probeIntervalMs: 0 }, 0);
    saturate(lim, 1_000_000, 5, 4000, clock);
    assert.equal(lim.limit, 200);
  });

  it("while app-limited it never grows, and decays toward twice the recent peak in-flight plus headroom whatever the latency", () => {
    const run = (rtt: (t: number) => number) => {
      const lim = new GradientLimit({ initial: 50, min: 4, max: 1000, probeIntervalMs: 0 }, 0);
      const seen: number[] = [];
      for (let t = 1; t <= 5000; t++) {
        lim.sample(t, rtt(t), 3, true, 0);
        seen.push(lim.limit);
      }
      return { last: lim.limit, max: Math.max(...seen) };
    };
    const steady = run(() => 5);
    assert.equal(steady.max, 50);
    // L = 2 × 3 + sqrt(L) → about 9.
    assert.ok(steady.last >= 8 && steady.last <= 10, `limit ${steady.last}`);
    // Scheduler noise (windows 1–100× slower) must not move it: the decay reads counts, not latency.
    const noisy = run((t) => (t % 7 === 0 ? 500 : 5));
    assert.equal(noisy.last, steady.last);
  });

  it("a worker that saw a trickle (two requests, one at a time, in a second) decays from its starting 20 to 2 × 1 + sqrt(20) in that one window, not halfway", () => {
    // bench:overload: nginx sent the 2 s warm-up down one keep-alive connection, and the other worker
    // met 4x load at 12 (halfway) with two requests seen; its first second of overload had a p99 of 270 ms.
    const lim = new GradientLimit({ initial: 20, min: 1, max: 1000, probeIntervalMs: 0 }, 0);
    lim.sample(100, 6, 1, true, 0);
    lim.sample(600, 6, 1, true, 0);
    lim.sample(1200, 6, 1, true, 0); // the window (1 s with any samples) closes here
    assert.equal(lim.limit, Math.floor(2 * 1 + Math.sqrt(20)));
  });

  it("under overload a limit far too high halves after three slow samples and is down to 8 (twice the probe's 4) within 10 completions; outside overload the same samples only lower it smoothly", () => {
    // One window of 5 ms samples with the limit binding (it grows, as it should); the next starts empty.
    const learned = (clock: { t: number }) => {
      const l = new GradientLimit({ initial: 20, min: 1, max: 1000, probeIntervalMs: 0 }, 0);
      for (let i = 0; i < 11; i++) {
        clock.t += 10;
        l.sample(clock.t, 5, 20, true, 0);
      }
      return l;
    };
    const clock = { t: 0 };
    const lim = learned(clock);
    const before = lim.limit;
    assert.ok(before >= 20, `limit ${before}`);
    const calmClock = { t: 0 };
    const calm = learned(calmClock);
    for (let i = 0; i < 10; i++) calm.sample((calmClock.t += 5), 5 * before, before, true, 0);
    assert.ok(calm.limit >= before * 0.8, `not overloaded: a tenth at most a window (${calm.limit} from ${before})`);
    lim.overloaded = true;
    // One CPU slot: L requests in flight take L × 5 ms each.
    const lat = () => 5 * lim.limit;
    let completions = 0;
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      clock.t += 5;
      lim.sample(clock.t, lat(), lim.limit, true, 0);
      completions++;
    }
    // Overloaded and far above tolerance: no headroom, half the limit, after 3 samples rather than 10.
    assert.equal(lim.limit, Math.floor(Math.max(8, before * 0.5)));
    while (lim.limit > 8 && completions < 100) {
      clock.t += 5;
      lim.sample(clock.t, lat(), lim.limit, true, 0);
      completions++;
      seen.push(lim.limit);
    }
    assert.ok(completions <= 10, `limit ${lim.limit} after ${completions} completions: ${seen.join(" ")}`);
  });

  it("under overload, halving stops at twice the throughput × baseline (never below the probe's 4): a CPU-bound worker halves from 20 to 4 within 12 completions, a 4-slot I/O service of 20 ms (200/s, floor 8) never halves below 8", () => {
    // One CPU slot, baseline 5 ms: L in flight take 5·L ms each and one finishes every 5 ms (200/s, BDP 1).
    const clock = { t: 0 };
    const cpu = new GradientLimit({ initial: 20, min: 1, max: 1000, probeIntervalMs: 0 }, 0);
    teachBaseline(cpu, clock, 20);
    cpu.overloaded = true;
    cpu.throughputPerSecond = 200;
    const cpuSeen: number[] = [];
    for (let i = 0; i < 12 && cpu.limit > 4; i++) {
      clock.t += 5;
      cpu.sample(clock.t, 5 * cpu.limit, cpu.limit, true, 0);
      cpuSeen.push(cpu.limit);
    }
    assert.equal(cpu.limit, 4, `CPU-bound: ${cpuSeen.join(" ")}`);

    // Four slots of 20 ms (200/s, BDP 4): past the floor of 8 only the smoothed gradient may lower it.
    const io = new GradientLimit({ initial: 40, min: 1, max: 1000, probeIntervalMs: 0 }, 0);
    const ioClock = { t: 0 };
    for (let i = 0; i < 20; i++) io.sample((ioClock.t += 10), 20, 1, true, 0);
    io.overloaded = true;
    io.throughputPerSecond = 200;
    const ioSeen: number[] = [];
    for (let w = 0; w < 12; w++) {
      const before = io.limit;
      // A CPU-starved moment: every window is slow whatever the concurrency (5× the service's own time).
      for (let i = 0; i < 3 && io.limit === before; i++) io.sample((ioClock.t += 5), 100 * Math.max(1, io.limit / 4), io.limit, true, 0);
      ioSeen.push(io.limit);
      if (before > 8) assert.ok(io.limit >= 8, `halved below the floor of 8: ${ioSeen.join(" ")}`);
      else assert.ok(io.limit >= Math.floor(before * 0.9), `below the floor only smoothed steps: ${ioSeen.join(" ")}`);
    }
  });

  it("never grows on a window with failures", () => {
    const lim = new GradientLimit({ initial: 50, min: 4, max: 1000, probeIntervalMs: 0 }, 0);
    for (let t = 1; t <= 3000; t++) lim.sample(t, 5, 50, t % 5 !== 0, 0);
    assert.ok(lim.limit < 50, `limit ${lim.limit}`);
  });

  it("re-measures the baseline with a probe at low concurrency, then restores the limit", () => {
    const lim = new GradientLimit({ initial: 40, min: 4, max: 1000, probeIntervalMs: 1000, probeJitter: 0, probeSamples: 10 }, 0);
    let t = 0;
    // Baseline 5 ms learned early.
    for (; t < 500; t += 5) lim.sample(t, 5, 1, true, 0);
    assert.equal(lim.baselineMs, 5);
    // The service got slower for good (20 ms): without a probe the baseline would stay 5 forever.
    for (; t < 1200 && lim.phase === "learning"; t += 5) lim.sample(t, 20, 40, true, lim.epoch);
    assert.equal(lim.phase, "probe-drain");
    assert.equal(lim.limit, 4);
    lim.inflightChanged(4);
    assert.equal(lim.phase, "probe");
    const before = lim.epoch - 1;
    lim.sample(t, 500, 4, true, before); // started before the probe: ignored
    for (let i = 0; i < 10; i++) {
      t += 20;
      lim.sample(t, 20, 4, true, lim.epoch);
    }
    assert.equal(lim.phase, "learning");
    assert.equal(lim.baselineMs, 20);
    assert.ok(lim.limit > 4);
  });

  it("a baseline probe never raises the limit above what it learned", () => {
    const clock = { t: 0 };
    const lim = new GradientLimit({ initial: 20, min: 1, max: 1000, probeIntervalMs: 10_000, probeJitter: 0 }, 0);
    teachBaseline(lim, clock, 10);
    // Overloaded on one slot: latency grows with concurrency until the limit reaches the floor.
    lim.overloaded = true;
    // What it learned: the limit after each window, the last one just before the probe starts.
    let learned = lim.limit;
    lim.onUpdate = (u) => {
      if (lim.phase === "learning") learned = u.limit;
    };
    while (lim.phase === "learning" && clock.t < 20_000) saturate(lim, 1, 5, 1, clock);
    assert.notEqual(lim.phase, "learning", "a probe started");
    assert.ok(learned < 4, `learned ${learned} (one slot: latency grows with every request past the first)`);
    assert.ok(lim.limit <= learned, `probe limit ${lim.limit}, learned ${learned}`);
  });

  it("under sustained overload, growth stops at twice throughput × baseline: 1 in flight at 45/s × 10 ms, and 5 once the probes took the other worker's load into the baseline (45 ms), not a headroom more each window (outside overload it does)", () => {
    const run = (overloaded: boolean) => {
      const clock = { t: 0 };
      const lim = new GradientLimit({ initial: 4, min: 1, max: 1000, probeIntervalMs: 1000, probeJitter: 0, probeSamples: 20 }, 0);
      for (let i = 0; i < 20; i++) lim.sample((clock.t += 25), 10, 1, true, 0);
      assert.equal(lim.baselineMs, 10);
      lim.overloaded = overloaded;
      // A saturated shared core: this worker finishes 45 requests a second, each 45 ms whatever its
      // own concurrency (the rest of the core's load sets it), the limit always full.
      lim.throughputPerSecond = 45;
      const seen: number[] = [];
      const whileBaseline10: number[] = [];
      while (clock.t < 8000) {
        clock.t += 1000 / 45;
        lim.sample(clock.t, 45, lim.limit, true, lim.epoch);
        lim.inflightChanged(lim.limit);
        seen.push(lim.limit);
        if (clock.t > 3000 && lim.baselineMs === 10) whileBaseline10.push(lim.limit);
      }
      assert.equal(lim.baselineMs, 45, "the probe re-measured the baseline");
      return { seen, whileBaseline10 };
    };
    const over = run(true);
    assert.ok(over.whileBaseline10.length > 0 && Math.max(...over.whileBaseline10) === 1, `overloaded, baseline 10 ms: ${over.whileBaseline10.join(" ")}`);
    assert.ok(Math.max(...over.seen) <= 5, `overloaded: ${over.seen.join(" ")}`);
    const calm = run(false).seen;
    assert.ok(Math.max(...calm) >= 10, `not overloaded: ${calm.join(" ")}`);
  });

  it("under sustained overload the growth cap has no floor of its own: a worker finishing 45 a second at a 10 ms baseline stays at 1 in flight even with latency within tolerance (the probe's 4 is only the halving floor); a step to 2 that finishes no more requests goes back", () => {
    const run = (overloaded: boolean) => {
      let t = 0;
      const lim = new GradientLimit({ initial: 1, min: 1, max: 1000, probeIntervalMs: 0 }, 0);
      // The baseline, learned while idle (nothing else in flight: the limit stays 1).
      for (let i = 0; i < 20; i++) lim.sample((t += 25), 10, 0, true, 0);
      assert.equal(lim.limit, 1);
      lim.overloaded = overloaded;
      lim.throughputPerSecond = 45;
      const seen: number[] = [];
      while (t < 3000) {
        lim.sample((t += 1000 / 45), 12, lim.limit, true, 0);
        seen.push(lim.limit);
      }
      return seen;
    };
    const over = run(true);
    // One slot more is tried once the limit has held for three windows, and given back when the
    // windows at 2 finished no more requests a second than those at 1 (then no new try for 20 windows).
    assert.ok(Math.max(...over) <= 2, `overloaded: ${over.join(" ")}`);
    assert.equal(over.at(-1), 1, `overloaded, at the end: ${over.join(" ")}`);
    assert.ok(over.filter((l) => l === 1).length >= 0.6 * over.length, `overloaded, mostly 1: ${over.join(" ")}`);
    const calm = run(false);
    assert.ok(Math.max(...calm) >= 4, `not overloaded: ${calm.join(" ")}`);
  });

  it("under sustained overload a worker held at the growth cap by a baseline below its typical latency steps up one slot at a time while each step finishes more requests a second, and stops at its parallelism", () => {
    // Six slots; a request takes 10 ms while at most six run (no queueing inside), longer beyond. The
    // baseline came from a fast window (4 ms: point reads), so 10 ms is within tolerance (1.5 × 4 + 5)
    // but twice throughput × baseline is 0.8 of the limit: the cap alone holds the worker at 1.
    const K = 6;
    const run = () => {
      let t = 0;
      const lim = new GradientLimit({ initial: 1, min: 1, max: 1000, probeIntervalMs: 0 }, 0);
      for (let i = 0; i < 20; i++) lim.sample((t += 25), 4, 0, true, 0);
      lim.overloaded = true;
      const seen: number[] = [];
      while (t < 10_000) {
        const L = lim.limit;
        const rate = Math.min(L, K) / 0.01;
        lim.throughputPerSecond = rate;
        lim.sample((t += 1000 / rate), 10 * Math.max(1, L / K), L, true, 0);
        seen.push(lim.limit);
      }
      return seen;
    };
    const seen = run();
    const last = seen.slice(-200);
    assert.ok(Math.min(...last) >= K - 1 && Math.max(...last) <= K + 2, `the last 200 completions: ${last.join(" ")}`);
    assert.ok(seen.findIndex((l) => l >= K - 1) < 0.5 * seen.length, `reached its parallelism in the first half: ${seen.join(" ")}`);
  });

  it("under sustained overload a probe that measures a higher baseline is taken only at the fourth probe in a row; outside overload at once", () => {
    const probeTimes = (overloaded: boolean) => {
      const lim = new GradientLimit({ initial: 2, min: 1, max: 1000, probeIntervalMs: 1000, probeJitter: 0, probeSamples: 20 }, 0);
      let t = 0;
      for (let i = 0; i < 20; i++) lim.sample((t += 25), 10, 1, true, 0);
      assert.equal(lim.baselineMs, 10);
      lim.overloaded = overloaded;
      const raisedAt: number[] = [];
      // Every request takes 40 ms at concurrency 1–2, whatever happens: the rest of the core's load.
      while (t < 6000 && raisedAt.length === 0) {
        lim.sample((t += 20), 40, lim.limit, true, lim.epoch);
        lim.inflightChanged(lim.limit);
        if (lim.baselineMs > 10) raisedAt.push(t);
      }
      return raisedAt[0] ?? Number.POSITIVE_INFINITY;
    };
    const calm = probeTimes(false);
    assert.ok(calm < 2000, `not overloaded: baseline raised at ${calm} ms (first probe after 1 s)`);
    const over = probeTimes(true);
    // A probe every 1 s plus its 400 ms of samples: they end near 1.4, 2.8, 4.2 and 5.6 s.
    assert.ok(over > 4500 && over < 7000, `overloaded: baseline raised at ${over} ms (the fourth probe ends near 5.6 s)`);
  });

  it("under sustained overload an I/O-bound service still grows from limit 1 to its 16 slots within 5 s", () => {
    const clock = { t: 0 };
    const lim = new GradientLimit({ initial: 1, min: 1, max: 1000, probeIntervalMs: 0 }, 0);
    // 16 parallel slots of 50 ms (calls to a database with room): latency flat until 16 in flight.
    lim.sample(0, 50, 1, true, 0);
    lim.overloaded = true;
    const trace: number[] = [];
    while (lim.limit < 16 && clock.t < 10_000) trace.push(...saturate(lim, 16, 50, 1, clock));
    assert.ok(lim.limit >= 16 && clock.t <= 5000, `limit ${lim.limit} after ${Math.round(clock.t)} ms: ${trace.join(" ")}`);
  });
});
