import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { holdfastLine, nginxAccessLine, } from "../recorded-lines.js";
import { memoryGrowth } from "./memory-growth.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("failures around a heap-out-of-memory death", () => {
  const app = ["2026-11-24T14:02:00Z FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", holdfastLine(t0 + 50, "worker.exit", { workerPid: 4121, code: 134, signal: null })];
  const access = [nginxAccessLine({ t: t0 + 100, status: 502, urt: 0.3 })];
  const [f] = runRule(memoryGrowth, datasetFromLines({ access, app }));
  assert.equal(f?.severity, "critical");
  assert.equal(f?.explains, 1);
});

test("three RSS recycles are a warning", () => {
  const app = [0, 1, 2].map((i) => holdfastLine(t0 + i * 600_000, "worker.recycle", { reason: "maxRss", rssBytes: 600 * 1024 * 1024 }, "info"));
  const [f] = runRule(memoryGrowth, datasetFromLines({ app }));
  assert.equal(f?.severity, "warning");
  assert.match(f?.evidence.summary ?? "", /600 MB/);
});
