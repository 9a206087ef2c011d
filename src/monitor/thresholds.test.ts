import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DEFAULT_THRESHOLDS, loadThresholds } from "./thresholds.js";
import { tempDir } from "../../test/support/temp-dir.js";

describe("alert thresholds", () => {
  it("defaults to the post-mortem's success metrics", () => {
    const t = loadThresholds([]);
    assert.equal(t.errorRate, 0.01);
    assert.equal(t.p99Ms, 5000);
    assert.equal(t.poolUtilization, 0.8);
    assert.equal(t.lockTimeouts, 0);
    assert.equal(t.instanceDown, true);
  });

  it("reads an inline list with units, percentages and off", () => {
    const t = loadThresholds(["errorRate=2%,p99=750ms", "poolUtilization=0.9 lockTimeouts=off for=0s window=5s"]);
    assert.equal(t.errorRate, 0.02);
    assert.equal(t.p99Ms, 750);
    assert.equal(t.poolUtilization, 0.9);
    assert.equal(t.lockTimeouts, undefined);
    assert.equal(t.forMs, 0);
    assert.equal(t.windowMs, 5000);
    assert.equal(t.resolveForMs, DEFAULT_THRESHOLDS.resolveForMs);
  });

  it("reads a JSON file; a later inline list overrides it", () => {
    const f = join(tempDir("hf-mon-"), "t.json");
    writeFileSync(f, JSON.stringify({ errorRate: 0.05, p99: "2s", instanceDown: false }));
    const t = loadThresholds([f, "p99=3s"]);
    assert.equal(t.errorRate, 0.05);
    assert.equal(t.p99Ms, 3000);
    assert.equal(t.instanceDown, false);
  });

  it("names unknown keys and bad values, and lists the accepted keys", () => {
    assert.throws(() => loadThresholds(["errRate=1%"]), /unknown key "errRate".*Keys: errorRate/);
    assert.throws(() => loadThresholds(["errorRate=150%"]), /errorRate: expected a share like 1%/);
    assert.throws(() => loadThresholds(["p99=fast"]), /p99: expected a duration/);
    assert.throws(() => loadThresholds(["p99"]), /"p99" is not key=value/);
    assert.throws(() => loadThresholds(["missing.json"]), /no such file/);
  });
});
