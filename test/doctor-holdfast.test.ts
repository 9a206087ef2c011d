/**
 * The doctor on a real incident of holdfast itself: `holdfast serve` (one worker, heartbeat 2 s)
 * behind a real nginx; a route busy-loops, the supervisor's watchdog kills the worker, nginx
 * answers 502. Given nginx's logs, holdfast's own log and its live admin endpoint, the doctor
 * must name the watchdog kill first, with the stuck path — the log contract checked end to end.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { runDoctor } from "../src/doctor/index.js";
import { findBinary, freePort, hit, readLines, startNginx, tally } from "./fixtures/doctor/harness.js";
import { eventually, FIXTURES, startHoldfast } from "./support/holdfast-process.js";
import { missingService } from "./support/require-service.js";

const NGINX = findBinary("nginx");

test("holdfast worker stuck in a busy loop behind nginx → worker-killed first, naming the stuck path", async (t) => {
  if (!NGINX) return missingService(t, "nginx is not installed — apt-get install -y nginx to run the doctor + holdfast end-to-end test");
  // A fixed port (as in production): with port 0 a replacement worker may be given a different one.
  const port = await freePort();
  const hf = await startHoldfast(join(FIXTURES, "basic.mjs"), { workers: 1, env: { HOLDFAST_TIMEOUTS_HEARTBEAT: "2s" }, args: ["--port", String(port)] });
  assert.equal(Number(new URL(hf.appUrl).port), port);
  const proxy = await startNginx(NGINX, { upstreamPort: port, location: "proxy_read_timeout 20s;" });
  try {
    const before = await hf.status();
    const stuck = hit(proxy.port, "/spin?ms=60000");
    await new Promise((r) => setTimeout(r, 300));
    const queued = [hit(proxy.port, "/"), hit(proxy.port, "/")];
    const statuses = await Promise.all([stuck, ...queued]);
    await hf.waitForLog((l) => l.event === "worker.timeout", 10_000);
    await eventually(
      async () => {
        const s = await hf.status();
        return s.workers[0]?.pid !== before.workers[0]?.pid && s.workers[0]?.state === "ready";
      },
      10_000,
      "replacement worker ready",
    );
    for (let i = 0; i < 5; i++) statuses.push(await hit(proxy.port, "/"));
    const failed = tally(statuses)[502] ?? 0;
    assert.ok(failed >= 1, `expected 502s, got ${JSON.stringify(tally(statuses))}`);
    // nginx writes each access line after its response: wait for all of them, not a fixed time.
    await eventually(() => readLines(proxy.accessLog).length >= statuses.length, 10_000, `${statuses.length} access log lines`);
    const r = await runDoctor({
      logs: [
        { kind: "nginx-access", file: proxy.accessLog },
        { kind: "nginx-error", file: proxy.errorLog },
        { kind: "app", file: hf.logFile },
      ],
      nginxConfig: proxy.configFile,
      admin: [hf.adminUrl],
      system: false,
      progress: false,
    });
    const top = r.findings[0];
    assert.equal(top?.id, "worker-killed", r.findings.map((f) => `${f.id}:${f.explains}`).join(", "));
    assert.equal(top?.explains, failed);
    assert.match(top?.evidence.summary ?? "", /\/spin/);
    assert.match(top?.evidence.summary ?? "", new RegExp(`pid ${before.workers[0]?.pid}`));
    assert.equal(r.data.probes.admin?.length, 1, "the live admin endpoint was read");
    assert.deepEqual(r.data.probes.errors, []);
  } finally {
    await proxy.stop();
    await hf.stop();
  }
});
