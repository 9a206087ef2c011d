import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Schedule } from "./schedule.js";

describe("open-loop schedule", () => {
  it("places each stage's requests evenly inside it, a pause stage sending nothing", () => {
    const s = new Schedule([
      { durationMs: 1000, rate: 4 },
      { durationMs: 2000, rate: 0 },
      { durationMs: 500, rate: 10 },
    ]);
    assert.equal(s.total, 9);
    assert.equal(s.durationMs, 3500);
    assert.deepEqual(
      Array.from({ length: 9 }, (_, i) => s.at(i)),
      [0, 250, 500, 750, 3000, 3100, 3200, 3300, 3400],
    );
  });

  it("refuses a stage without a duration", () => {
    assert.throws(() => new Schedule([{ durationMs: 0, rate: 10 }]), /a duration above 0/);
  });
});
