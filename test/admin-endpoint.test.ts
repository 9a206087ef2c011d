// The supervisor's admin endpoint: probes, status, Prometheus metrics aggregated across workers, the event stream, the token.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { eventually, FIXTURES, startHoldfast } from "./support/holdfast-process.js";

const APP = join(FIXTURES, "basic.mjs");

test("/metrics aggregates every worker's requests; /status, /healthz, /readyz, /events and / answer", async () => {
  const hf = await startHoldfast(APP, { workers: 2 });
  try {
    for (let i = 0; i < 40; i++) await (await fetch(`${hf.appUrl}/`, { headers: { connection: "close" } })).text();
    for (let i = 0; i < 3; i++) await (await fetch(`${hf.appUrl}/throw`)).text();
    // Worker snapshots ride on the heartbeat (every second).
    const text = await eventually(
      async () => {
        const t = await (await fetch(`${hf.adminUrl}/metrics`)).text();
        const ok = Number(/http_server_request_duration_seconds_count\{http_request_method="GET",http_response_status_code="200"\} (\d+)/.exec(t)?.[1]);
        const failed = Number(/http_server_request_duration_seconds_count\{http_request_method="GET",http_response_status_code="500"\} (\d+)/.exec(t)?.[1]);
        // Each worker reports with its own heartbeat: wait for both workers' counts, not just the first.
        return ok === 40 && failed === 3 ? t : undefined;
      },
      5_000,
      "40 + 3 requests in /metrics",
    );
    assert.match(text, /http_server_request_duration_seconds_count\{http_request_method="GET",http_response_status_code="500"\} 3/);
    assert.match(text, /# TYPE http_server_request_duration_seconds histogram/);
    assert.match(text, /http_server_request_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} 40/);
    assert.match(text, /holdfast_request_errors_total\{code="INTERNAL"\} 3/);
    assert.match(text, /holdfast_worker_restarts_total 0/);
    assert.match(text, /holdfast_admission_limit \d+/);
    const status = await hf.status();
    assert.equal(status.ready, true);
    assert.equal(status.workers.length, 2);
    assert.equal((status.counters.status as Record<string, number>)["5xx"], 3);
    assert.equal((await fetch(`${hf.adminUrl}/healthz`)).status, 200);
    assert.equal((await fetch(`${hf.adminUrl}/readyz`)).status, 200);
    assert.match(await (await fetch(`${hf.adminUrl}/`)).text(), /<title>holdfast<\/title>/);
    const ac = new AbortController();
    const events = await fetch(`${hf.adminUrl}/events`, { signal: ac.signal });
    assert.equal(events.headers.get("content-type"), "text/event-stream");
    const reader = events.body?.getReader();
    const first = new TextDecoder().decode((await reader?.read())?.value);
    assert.match(first, /^event: status\ndata: \{"instance"/);
    ac.abort();
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});

test("with admin.token set, everything but the probes needs the bearer token", async () => {
  const token = "s3cret-token-0123456789";
  const hf = await startHoldfast(APP, { workers: 1, env: { HOLDFAST_ADMIN_TOKEN: token } });
  try {
    const denied = await fetch(`${hf.adminUrl}/status`);
    assert.equal(denied.status, 401);
    assert.equal(((await denied.json()) as { error: { code: string } }).error.code, "ADMIN_UNAUTHORIZED");
    assert.equal((await fetch(`${hf.adminUrl}/metrics`, { headers: { authorization: "Bearer wrong-token-0123456789" } })).status, 401);
    assert.equal((await fetch(`${hf.adminUrl}/status`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.equal((await fetch(`${hf.adminUrl}/healthz`)).status, 200);
    // The token never reaches the log.
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!JSON.stringify(hf.logLines()).includes(token));
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});
