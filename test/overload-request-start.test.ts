// X-Request-Start from the proxy: time a request spent before a saturated worker saw it counts as queueing.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { FIXTURES, startHoldfast } from "./support/holdfast-process.js";

test("an idle worker serves a request the proxy stamped long ago (one late request is noise, not overload), and health checks", async () => {
  const hf = await startHoldfast(join(FIXTURES, "basic.mjs"), { workers: 1 });
  try {
    // Held up 5 s before it reached an idle worker: the delay was in front of it (a stalled proxy
    // or machine), so refusing it would free nothing. The standing-queue case — a saturated worker
    // whose requests all arrive late — is shed at once: test/overload-admission.test.ts (CPU-bound).
    const stale = await fetch(`${hf.appUrl}/`, { headers: { "x-request-start": `t=${Date.now() - 5000}` } });
    assert.equal(stale.status, 200);
    await stale.text();
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
