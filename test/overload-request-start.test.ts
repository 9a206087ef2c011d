// X-Request-Start from the proxy: time a request spent before the worker saw it counts as queueing.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { FIXTURES, startHoldfast } from "./support/holdfast-process.js";

test("a request the proxy stamped long ago is shed at once; a fresh one and health checks are served", async () => {
  const hf = await startHoldfast(join(FIXTURES, "basic.mjs"), { workers: 1 });
  try {
    const stale = await fetch(`${hf.appUrl}/`, { headers: { "x-request-start": `t=${Date.now() - 5000}` } });
    assert.equal(stale.status, 503);
    assert.equal(((await stale.json()) as { error: { code: string } }).error.code, "OVERLOADED");
    // Stamped just ahead of now: on a loaded machine the worker may read a "now" stamp 40 ms late, which counts as waiting.
    const fresh = await fetch(`${hf.appUrl}/`, { headers: { "x-request-start": `t=${Date.now() + 500}` } });
    assert.equal(fresh.status, 200);
    await fresh.text();
    const health = await fetch(`${hf.appUrl}/healthz`, { headers: { "x-request-start": `t=${Date.now() - 5000}` } });
    assert.equal(health.status, 200, "health checks are never shed");
    await health.text();
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});

test("admission.requestStart = false ignores the header (proxy and app clocks not in step)", async () => {
  const hf = await startHoldfast(join(FIXTURES, "basic.mjs"), { workers: 1, env: { HOLDFAST_ADMISSION_REQUEST_START: "false" } });
  try {
    const r = await fetch(`${hf.appUrl}/`, { headers: { "x-request-start": `t=${Date.now() - 5000}` } });
    assert.equal(r.status, 200);
    await r.text();
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});
