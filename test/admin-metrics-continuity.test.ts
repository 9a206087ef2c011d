// Cluster counters a Prometheus user rates over: they never go back on a SIGHUP reload or a
// watchdog kill, per-worker process/Node.js metrics carry a worker label, and promtool's
// linter finds nothing to complain about.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { requireBinary } from "./support/require-service.js";
import { eventually, FIXTURES, startHoldfast } from "./support/holdfast-process.js";

const APP = join(FIXTURES, "basic.mjs");
const COUNT_200 = /http_server_request_duration_seconds_count\{http_request_method="GET",http_response_status_code="200"\} (\d+)/;

async function metricsText(adminUrl: string): Promise<string> {
  return (await fetch(`${adminUrl}/metrics`)).text();
}

function count200(text: string): number | undefined {
  const m = COUNT_200.exec(text);
  return m ? Number(m[1]) : undefined;
}

async function hit(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await (await fetch(url, { headers: { connection: "close" } })).text();
}

test("request counters on /metrics and /status survive a SIGHUP reload and a watchdog kill", async () => {
  const hf = await startHoldfast(APP, { workers: 2, env: { HOLDFAST_TIMEOUTS_HEARTBEAT: "2s" } });
  try {
    await hit(`${hf.appUrl}/`, 30);
    await eventually(async () => count200(await metricsText(hf.adminUrl)) === 30, 5_000, "30 requests on /metrics");

    hf.child.kill("SIGHUP");
    await hf.waitForLog((l) => l.event === "reload" && l.phase === "done", 30_000);
    // Right after the reload, before any new traffic: nothing vanished, nothing went back.
    const afterReload = await metricsText(hf.adminUrl);
    assert.equal(count200(afterReload), 30, "the 200s of the replaced workers are still counted");
    assert.match(afterReload, /holdfast_reloads_total 1/);
    const st = await hf.status();
    assert.equal(st.counters.requests, 30);
    assert.equal((st.counters.status as Record<string, number>)["2xx"], 30);

    await hit(`${hf.appUrl}/`, 10);
    await eventually(async () => count200(await metricsText(hf.adminUrl)) === 40, 5_000, "40 requests after the reload");

    // A stuck worker is killed by the watchdog; its counts stay.
    void fetch(`${hf.appUrl}/spin?ms=20000`).catch(() => undefined);
    await hf.waitForLog((l) => l.event === "worker.timeout", 15_000);
    const afterKill = await metricsText(hf.adminUrl);
    assert.ok((count200(afterKill) ?? 0) >= 40, `count after the kill: ${count200(afterKill)}`);
    assert.match(afterKill, /holdfast_worker_timeouts_total 1/);
    assert.ok(((await hf.status()).counters.requests as number) >= 40);
  } finally {
    await hf.stop();
  }
});

test("/metrics has process and Node.js metrics per worker, counters typed as counters, and passes promtool check metrics", async (t) => {
  const promtool = requireBinary(t, "promtool");
  if (!promtool) return;
  const hf = await startHoldfast(APP, { workers: 2 });
  try {
    await hit(`${hf.appUrl}/`, 5);
    const text = await eventually(
      async () => {
        const s = await metricsText(hf.adminUrl);
        return /process_resident_memory_bytes\{worker="2"\}/.test(s) && count200(s) === 5 ? s : undefined;
      },
      5_000,
      "both workers' default metrics",
    );
    assert.match(text, /process_resident_memory_bytes\{worker="1"\} \d+/);
    assert.match(text, /# TYPE process_cpu_seconds_total counter/);
    assert.match(text, /nodejs_eventloop_lag_p99_seconds\{worker="1"\}/);
    assert.match(text, /# TYPE holdfast_sqlite_lock_timeouts_total counter|# TYPE holdfast_cache_hits_total counter/);
    assert.doesNotMatch(text, /^holdfast_cache_hits /m, "cumulative figures are not gauges any more");
    // docs/monitor.md lists every metric holdfast itself defines.
    const doc = readFileSync(new URL("../docs/monitor.md", import.meta.url), "utf8");
    for (const [, name] of text.matchAll(/^# TYPE ((?:holdfast|http_server)_\S+) /gm))
      assert.ok(doc.includes(`\`${name}\``), `${name} is not in docs/monitor.md's metric table`);
    const check = spawnSync(promtool, ["check", "metrics"], { input: text, encoding: "utf8" });
    assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
    assert.equal(`${check.stdout}${check.stderr}`.trim(), "", "promtool has no lint warnings");
  } finally {
    await hf.stop();
  }
});
