import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { nginxAccessLine } from "../recorded-lines.js";
import { pgConnectionLimit } from "./pg-connection-limit.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("'sorry, too many clients already' near 500s", () => {
  const app = ["2026-11-24 14:02:00.200 UTC [2231] FATAL:  sorry, too many clients already"];
  const access = [nginxAccessLine({ t: t0 + 500, status: 500, urt: 0.02 })];
  const [f] = runRule(pgConnectionLimit, datasetFromLines({ access, app }));
  assert.equal(f?.severity, "critical");
  assert.equal(f?.explains, 1);
});

test("the live probe at 96 % of usable connections", () => {
  const [f] = runRule(
    pgConnectionLimit,
    datasetFromLines({ probes: { postgres: { url: "postgres://x", connections: 94, maxConnections: 100, reserved: 3 } } }),
  );
  assert.equal(f?.severity, "error");
  assert.deepEqual(runRule(pgConnectionLimit, datasetFromLines({ probes: { postgres: { url: "postgres://x", connections: 10, maxConnections: 100 } } })), []);
});
