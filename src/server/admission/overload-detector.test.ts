import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OverloadDetector } from "./overload-detector.js";

describe("overload detector", () => {
  it("one long wait is not overload; a whole interval of waits above target is", () => {
    const d = new OverloadDetector(20, 100);
    d.sample(0, 500);
    assert.equal(d.overloaded(0), false, "a single long wait");
    for (let t = 10; t < 100; t += 10) d.sample(t, 30);
    assert.equal(d.overloaded(90), false, "above target for 90 ms of a 100 ms interval");
    d.sample(100, 30);
    assert.equal(d.overloaded(100), true);
    assert.equal(d.maxWait(100), 10, "half the target once overloaded");
  });

  it("stays overloaded while requests are shed for waiting past half the target, and ends a hold after the last", () => {
    const d = new OverloadDetector(20, 100);
    for (let t = 0; t <= 100; t += 10) d.sample(t, 30);
    assert.equal(d.overloaded(100), true);
    // Sustained overload: the queue is cut at 10 ms, so waits sit between 10 and 20 ms, never past the
    // target; LIFO also starts fresh requests at once. Each cut wait still shows the queue stands.
    let t = 100;
    for (; t <= 5_000; t += 5) d.sample(t, t % 10 === 0 ? 12 : 0);
    assert.equal(d.overloaded(t), true, "a 5 s overload is one episode");
    // Load gone: only short waits.
    const end = t;
    for (; t <= end + d.hold + 50; t += 5) {
      d.sample(t, 1);
      if (t - end < d.hold - 5) assert.equal(d.overloaded(t), true, `held ${t - end} ms after the last cut wait`);
    }
    assert.equal(d.overloaded(t), false, "over a hold after the last cut wait");
  });
});
