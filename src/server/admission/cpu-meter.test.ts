import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CpuMeter, processCpuMs } from "./cpu-meter.js";

describe("CpuMeter", () => {
  it("reads the share of a core used over the last interval, from injected clocks", () => {
    const cpu = { ms: 0 };
    const m = new CpuMeter(() => cpu.ms);
    m.sample(0);
    assert.equal(m.idleBelow(0, 0.25), false, "no interval measured yet: busy");
    cpu.ms += 2; // 2 ms of CPU in 20 ms: 10 % of a core
    assert.equal(m.idleBelow(20, 0.25), true);
    cpu.ms += 15; // 15 ms in the next 20 ms: 75 %
    assert.equal(m.idleBelow(40, 0.25), false);
    assert.equal(m.idleBelow(45, 0.25), false, "within MIN_INTERVAL_MS the last reading stands");
  });

  it("a reading after a quiet spell only restarts the interval: an onset after idling is not idle", () => {
    const cpu = { ms: 0 };
    const m = new CpuMeter(() => cpu.ms);
    m.sample(0);
    cpu.ms += 30; // a burst of work right at the end of a 2 s quiet spell
    assert.equal(m.idleBelow(2000, 0.25), false, "averaged over 2 s this would read 1.5 %");
    cpu.ms += 18;
    assert.equal(m.idleBelow(2020, 0.25), false, "90 % of the last 20 ms");
    assert.equal(m.idleBelow(2200, 0.25), false, "the last fresh reading is stale again: busy");
  });

  it("without a clock it always reads busy", () => {
    const m = new CpuMeter(undefined);
    m.sample(0);
    assert.equal(m.idleBelow(100, 1), false);
  });

  it("the process clock counts this thread's work", () => {
    // Spin until 10 ms of CPU are counted; a busy machine may take longer, hence the 5 s bound.
    const before = processCpuMs();
    const end = performance.now() + 5000;
    while (processCpuMs() - before < 10 && performance.now() < end) {
      // spin: CPU time, not waiting
    }
    assert.ok(processCpuMs() - before >= 10, `${processCpuMs() - before} ms of CPU counted in 5 s of spinning`);
  });
});
