import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AlertBook } from "./alert-state.js";
import type { RuleResult } from "./types.js";

const r = (active: boolean, value = active ? 0.5 : 0): RuleResult => ({
  rule: "error-rate",
  instance: "http://a",
  active,
  value,
  threshold: 0.01,
  summary: `5xx ${value}`,
  severity: "critical",
});

describe("alert state machine", () => {
  it("fires only after the condition held for `for`, resolves only after it stayed clear for `resolveFor`", () => {
    const book = new AlertBook(10_000, 5_000);
    assert.deepEqual(book.apply([r(true)], 0), []);
    assert.equal(book.alerts()[0].state, "pending");
    assert.deepEqual(book.apply([r(true)], 9_999), []);
    const fired = book.apply([r(true)], 10_000);
    assert.equal(fired.length, 1);
    assert.equal(fired[0].status, "firing");
    assert.equal(fired[0].alert.firedAt, new Date(10_000).toISOString());
    assert.deepEqual(book.apply([r(false)], 11_000), []);
    assert.equal(book.alerts()[0].state, "resolving");
    assert.ok(book.anyFiring(), "still counts as firing while it waits out resolveFor");
    const resolved = book.apply([r(false)], 16_000);
    assert.equal(resolved[0].status, "resolved");
    assert.equal(resolved[0].alert.resolvedAt, new Date(16_000).toISOString());
    assert.equal(book.alerts().length, 0);
  });

  it("does not flap: a condition that blinks neither fires early nor resolves early", () => {
    const book = new AlertBook(3_000, 3_000);
    const sent: string[] = [];
    // Blinking below `for`: never fires.
    for (let t = 0; t < 20_000; t += 1000) sent.push(...book.apply([r(t % 2000 === 0)], t).map((x) => x.status));
    assert.equal(sent.length, 0);
    for (let t = 20_000; t <= 23_000; t += 1000) sent.push(...book.apply([r(true)], t).map((x) => x.status));
    assert.deepEqual(sent, ["firing"]);
    // Blinking while firing: no resolved, no second firing.
    for (let t = 24_000; t < 40_000; t += 1000) sent.push(...book.apply([r(t % 2000 === 0)], t).map((x) => x.status));
    assert.deepEqual(sent, ["firing"]);
  });

  it("with for=0 fires and resolves on the first look", () => {
    const book = new AlertBook(0, 0);
    assert.equal(book.apply([r(true)], 0)[0]?.status, "firing");
    assert.equal(book.apply([r(false)], 1)[0]?.status, "resolved");
  });
});
