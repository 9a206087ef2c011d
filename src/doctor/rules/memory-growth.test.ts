import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { holdfastLine, nginxAccessLine } from "../recorded-lines.js";
import { memoryGrowth } from "./memory-growth.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("failures around a heap-out-of-memory death", () => {
  const app = [
    "2026-11-24T14:02:00Z FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
    holdfastLine(t0 + 50, "worker.exit", { workerPid: 4121, code: 134, signal: null }),
  ];
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

test("a bare Node app (no holdfast supervisor) that runs out of heap: the process, not 'workers', and no holdfast keys", () => {
  const app = [
    "2026-11-24T14:01:50.000Z info sessions[2937]: listening on 127.0.0.1:35441",
    "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
    " 1: 0xb78db3 node::OOMErrorHandler(char const*, v8::OOMDetails const&) [/usr/bin/node]",
    "2026-11-24T14:02:00Z supervisor: sessions exited with status 134, restarting in 2 s",
    "2026-11-24T14:02:02.500Z info sessions[3646]: listening on 127.0.0.1:35441",
  ];
  const access = [nginxAccessLine({ t: Date.UTC(2026, 10, 24, 14, 2, 1), status: 502, urt: null })];
  const [f] = runRule(memoryGrowth, datasetFromLines({ access, app }));
  assert.match(f?.title ?? "", /^The app process killed for running out of memory/);
  assert.equal(f?.fix.holdfast, undefined);
  assert.doesNotMatch(f?.evidence.summary ?? "", /RSS recycle/);
  assert.match(f?.fix.stack?.lines ?? "", /--heapsnapshot-near-heap-limit/);
});
