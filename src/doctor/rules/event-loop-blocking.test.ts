import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { holdfastLine, nginxAccessLine } from "../recorded-lines.js";
import { eventLoopBlocking } from "./event-loop-blocking.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("failures during a 2 s event-loop stall", () => {
  const app = [holdfastLine(t0 + 2000, "eventloop.lag", { lagMs: 2000 }), holdfastLine(t0, "eventloop.lag", { lagMs: 20 })];
  const access = [nginxAccessLine({ t: t0 + 1500, status: 504, urt: 1.5 })];
  const [f] = runRule(eventLoopBlocking, datasetFromLines({ access, app }));
  assert.equal(f?.explains, 1);
  assert.equal(f?.evidence.counts.events, 1, "20 ms is noise");
});
