import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { timeoutBudget } from "./timeout-budget.js";

test("proxy values from the nginx config against the holdfast timeouts, via checkTimeoutBudget", () => {
  const proxyConfig = { kind: "nginx" as const, file: "nginx.conf", logFormats: {}, proxyReadTimeout: 30_000, upstreamIdleTimeout: 75_000 };
  const ids = runRule(
    timeoutBudget,
    datasetFromLines({ proxyConfig, timeouts: { proxyReadTimeout: 30_000, proxyIdleTimeout: 75_000, keepAlive: 65_000, headers: 66_000, deadline: 30_000 } }),
  ).map((f) => f.id);
  assert.ok(ids.includes("timeout-budget/keepalive-below-proxy-idle"));
  assert.ok(ids.includes("timeout-budget/deadline-not-below-proxy-read"));
});

test("layers that nest give nothing", () => {
  assert.deepEqual(
    runRule(
      timeoutBudget,
      datasetFromLines({
        timeouts: { proxyReadTimeout: 60_000, proxyIdleTimeout: 60_000, keepAlive: 65_000, headers: 66_000, deadline: 30_000, acquireTimeout: 5000 },
      }),
    ),
    [],
  );
});
