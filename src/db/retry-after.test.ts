// The one Retry-After policy: busy answers follow the measured drain rate within 1–30 s, the rest are fixed per cause.
import assert from "node:assert/strict";
import { test } from "node:test";
import { retryAfterSeconds } from "./retry-after.js";

test("a busy answer says how long the queue ahead takes to drain, rounded up, between 1 and 30 s", () => {
  assert.equal(retryAfterSeconds("busy"), 1, "no drain rate measured yet");
  assert.equal(retryAfterSeconds("busy", { queued: 100, servers: 10, holdMs: 0 }), 1, "no hold time measured yet");
  assert.equal(retryAfterSeconds("busy", { queued: 10, servers: 10, holdMs: 5 }), 1);
  assert.equal(retryAfterSeconds("busy", { queued: 1000, servers: 10, holdMs: 25 }), 3);
  assert.equal(retryAfterSeconds("busy", { queued: 1000, servers: 1, holdMs: 500 }), 30);
});

test("lost, unreachable and refused answers have their documented constants", () => {
  assert.equal(retryAfterSeconds("connection-lost"), 1);
  assert.equal(retryAfterSeconds("unreachable"), 5);
  assert.equal(retryAfterSeconds("refused"), 30);
});
