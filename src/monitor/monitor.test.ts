import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Monitor } from "./monitor.js";
import { renderDashboard, renderLines } from "./render-dashboard.js";
import { parsePrometheusText } from "./prometheus-text.js";
import { extractRequestHistogram } from "./request-histogram.js";
import { readStatus } from "./status-document.js";
import { resolveThresholds } from "./thresholds.js";
import type { Scrape } from "./types.js";

interface Shape {
  pid?: number;
  ok?: number;
  errors?: number;
  restarts?: number;
  timeouts?: number;
  util?: number;
  poolTimeouts?: number;
  lockTimeouts?: number;
  workerPid?: number;
  /** Age of the worker's last report when the scrape was taken (default 100 ms). */
  heartbeatAgo?: number;
  events?: Array<Record<string, unknown>>;
}

/** A scrape as the admin endpoint would answer it (the /status body goes through the real reader). */
function scrape(at: number, s: Shape): Scrape {
  const ok = s.ok ?? 0;
  const errors = s.errors ?? 0;
  const status = readStatus({
    instance: { pid: s.pid ?? 100, startedAt: "", uptimeS: 60, phase: "running", listen: { host: "127.0.0.1", port: 1 }, version: "0.1.0" },
    ready: true,
    workers: [
      {
        id: 1,
        pid: s.workerPid ?? 101,
        state: "ready",
        uptimeS: 60,
        requests: ok + errors,
        inflight: 0,
        rssBytes: 64 * 1024 * 1024,
        eventLoopLagMs: 2,
        restarts: s.restarts ?? 0,
        lastHeartbeatMsAgo: s.heartbeatAgo ?? 100,
        oldest: [],
        db: {
          dialect: "sqlite",
          pool: {
            size: 4,
            busy: Math.round((s.util ?? 0) * 10),
            idle: 0,
            waiting: 0,
            max: 10,
            utilization: s.util ?? 0,
            timeouts: s.poolTimeouts ?? 0,
            queueFull: 0,
          },
          sqlite: { walBytes: 4096, lockWaits: 0, lockTimeouts: s.lockTimeouts ?? 0, writeQueue: 0 },
        },
        admission: {
          mode: "adaptive",
          limit: 50,
          inflight: 0,
          queued: 0,
          queueDelayMs: 0,
          shed: {},
          admitted: 0,
          eventLoopDelayMs: 0,
          eventLoopUtilization: 0,
        },
      },
    ],
    counters: {
      requests: ok + errors,
      status: { "2xx": ok, "5xx": errors },
      shed: 0,
      timeouts: s.timeouts ?? 0,
      crashes: 0,
      restarts: s.restarts ?? 0,
      recycles: 0,
      reloads: 0,
    },
    events: s.events ?? [],
  });
  const l = (code: string) => `http_request_method="GET",http_response_status_code="${code}"`;
  const metrics = [
    `http_server_request_duration_seconds_bucket{${l("200")},le="0.01"} ${ok}`,
    `http_server_request_duration_seconds_bucket{${l("200")},le="+Inf"} ${ok}`,
    `http_server_request_duration_seconds_count{${l("200")}} ${ok}`,
    `http_server_request_duration_seconds_bucket{${l("500")},le="0.01"} ${errors}`,
    `http_server_request_duration_seconds_bucket{${l("500")},le="+Inf"} ${errors}`,
    `http_server_request_duration_seconds_count{${l("500")}} ${errors}`,
  ].join("\n");
  return { ok: true, at, status, histogram: extractRequestHistogram(parsePrometheusText(metrics)) };
}

const down = (at: number): Scrape => ({ ok: false, at, error: "connection refused at http://a/status" });

describe("Monitor: scrapes to views and alerts", () => {
  it("computes per-interval rates and fires error-rate after `for`, then resolves after `resolveFor`", () => {
    const m = new Monitor(["http://a"], resolveThresholds({ for: "2s", resolveFor: "2s", window: "3s", minRequests: 10 }), 1000);
    assert.equal(m.tick([scrape(0, { ok: 100 })], 0).model.instances[0].interval, undefined, "no rate from a single scrape");
    const t1 = m.tick([scrape(1000, { ok: 190, errors: 10 })], 1000);
    const r = t1.model.instances[0].interval!;
    assert.equal(r.requestsPerS, 100);
    assert.equal(r.errors5xxPerS, 10);
    assert.equal(r.errorRatio, 0.1);
    assert.equal(t1.model.alerts[0].state, "pending");
    assert.deepEqual(m.tick([scrape(2000, { ok: 280, errors: 20 })], 2000).transitions, []);
    const fired = m.tick([scrape(3000, { ok: 370, errors: 30 })], 3000).transitions;
    assert.deepEqual(
      fired.map((t) => [t.status, t.alert.rule]),
      [["firing", "error-rate"]],
    );
    // Errors stop; the 3 s window still holds some until it slides past them.
    let at = 3000;
    let ok = 370;
    const seen: string[] = [];
    while (at < 12_000) {
      at += 1000;
      ok += 100;
      seen.push(...m.tick([scrape(at, { ok, errors: 30 })], at).transitions.map((t) => t.status));
    }
    assert.deepEqual(seen, ["resolved"]);
  });

  it("measures requests/s over the workers' own report times, and keeps the figures when a scrape saw no new report", () => {
    const m = new Monitor(["http://a"], resolveThresholds({}), 1000);
    m.tick([scrape(0, { ok: 0, heartbeatAgo: 0 })], 0);
    // The scrapes are 1 s apart but the worker's reports 0.5 s apart: 50 requests in 0.5 s is 100/s, not 50/s.
    const a = m.tick([scrape(1000, { ok: 50, heartbeatAgo: 500 })], 1000).model.instances[0].interval!;
    assert.equal(a.requestsPerS, 100);
    // Next scrape sees the same report (it is 1.5 s old now): same figures, not a zero.
    const b = m.tick([scrape(2000, { ok: 50, heartbeatAgo: 1500 })], 2000).model.instances[0].interval!;
    assert.equal(b.requestsPerS, 100);
    // A report 1.5 s after the previous one with 150 more requests: 100/s, measured across both scrape intervals.
    const c = m.tick([scrape(3000, { ok: 200, heartbeatAgo: 1000 })], 3000).model.instances[0].interval!;
    assert.equal(c.requestsPerS, 100);
    assert.equal(c.requests, 150);
    // Reports stop for good (stuck workers): after a short while the figures fall to zero instead of freezing.
    const d = m.tick([scrape(6000, { ok: 200, heartbeatAgo: 4000 })], 6000).model.instances[0].interval!;
    assert.equal(d.requestsPerS, 0);
  });

  it("counts pool and lock timeouts and worker restarts per interval, surviving a worker replacement", () => {
    const m = new Monitor(["http://a"], resolveThresholds({ for: "0s", resolveFor: "0s", window: "1s" }), 1000);
    m.tick([scrape(0, { lockTimeouts: 5, poolTimeouts: 2 })], 0);
    const quiet = m.tick([scrape(1000, { lockTimeouts: 5, poolTimeouts: 2 })], 1000);
    assert.deepEqual(quiet.transitions, []);
    // The worker was replaced (new pid, counters from zero) and the new one already timed out once.
    const t = m.tick([scrape(2000, { workerPid: 202, lockTimeouts: 1, restarts: 1 })], 2000);
    const inc = t.model.instances[0].windowIncidents!;
    assert.equal(inc.lockTimeouts, 1);
    assert.equal(inc.workerRestarts, 1);
    assert.deepEqual(t.transitions.map((x) => x.alert.rule).sort(), ["lock-timeouts", "unstable-workers"]);
  });

  it("fires pool-utilization on the busiest worker's gauge", () => {
    const m = new Monitor(["http://a"], resolveThresholds({ for: "0s" }), 1000);
    m.tick([scrape(0, { util: 0.5 })], 0);
    const t = m.tick([scrape(1000, { util: 0.9 })], 1000);
    assert.deepEqual(
      t.transitions.map((x) => x.alert.rule),
      ["pool-utilization"],
    );
    assert.match(t.transitions[0].alert.summary, /90%/);
  });

  it("shows an unreachable instance as DOWN, fires instance-down, and leaves its other alerts alone", () => {
    const m = new Monitor(["http://a", "http://b"], resolveThresholds({ for: "0s", resolveFor: "0s", minRequests: 1 }), 1000);
    assert.deepEqual(
      m.tick([scrape(0, {}), down(0)], 0).transitions.map((x) => `${x.alert.rule} ${x.alert.instance}`),
      ["instance-down http://b"],
    );
    const t = m.tick([scrape(1000, { ok: 5, errors: 5 }), down(1000)], 1000);
    assert.deepEqual(
      t.transitions.map((x) => `${x.alert.rule} ${x.alert.instance}`),
      ["error-rate http://a"],
      "b stays firing, not re-sent",
    );
    // a goes down: instance-down fires for it, its error-rate alert is neither resolved nor re-sent.
    const t2 = m.tick([down(2000), down(2000)], 2000);
    assert.deepEqual(
      t2.transitions.map((x) => `${x.status} ${x.alert.rule} ${x.alert.instance}`),
      ["firing instance-down http://a"],
    );
    const screen = renderDashboard(t2.model, { color: false });
    assert.match(screen, /a\s+DOWN/);
    assert.match(screen, /DOWN — connection refused/);
    assert.match(screen, /FIRING\s+error-rate/);
    const lines = renderLines(t2.model);
    assert.match(lines, /Z a DOWN error="connection refused at http:\/\/a\/status" FIRING=/);
  });

  it("after an outage longer than the window starts afresh instead of pouring the outage's requests into one interval", () => {
    const m = new Monitor(["http://a"], resolveThresholds({ for: "0s", window: "30s", minRequests: 1 }), 1000);
    m.tick([scrape(0, { ok: 10 })], 0);
    m.tick([down(1000)], 1000);
    const back = m.tick([scrape(60_000, { ok: 5000, errors: 400 })], 60_000);
    assert.equal(back.model.instances[0].interval, undefined);
    assert.deepEqual(back.transitions, []);
    const next = m.tick([scrape(61_000, { ok: 5100, errors: 400 })], 61_000);
    assert.equal(next.model.instances[0].interval?.requests, 100);
  });

  it("lists the supervisor's recent events, and prints only the new ones as lines", () => {
    const m = new Monitor(["http://a"], resolveThresholds({}), 1000);
    const ready = { time: "2026-11-24T20:00:00.000Z", event: "supervisor.ready", workers: 1 };
    const first = m.tick([scrape(0, { events: [ready] })], 0).model;
    assert.deepEqual(first.instances[0].newEvents, [], "what was there before the monitor started is history, not news");
    const exit = { time: "2026-11-24T20:00:05.000Z", event: "worker.exit", slot: 1, workerPid: 4242, reason: "crash", code: 1, inflight: [{}, {}] };
    const second = m.tick([scrape(1000, { events: [ready, exit] })], 1000).model;
    assert.deepEqual(
      second.instances[0].newEvents?.map((e) => e.event),
      ["worker.exit"],
    );
    assert.match(renderLines(second), /Z a EVENT worker\.exit slot=1 workerPid=4242 reason=crash code=1 inflight=\[2\]\n/);
    assert.match(renderDashboard(second, { color: false }), /EVENTS\n {2}20:00:00Z supervisor\.ready workers=1\n {2}20:00:05Z worker\.exit slot=1/);
    assert.equal(m.tick([scrape(2000, { events: [ready, exit] })], 2000).model.instances[0].newEvents?.length, 0);
  });

  it("draws every column for a healthy instance, and the TOTAL row for several", () => {
    const m = new Monitor(["http://127.0.0.1:9464", "http://127.0.0.1:9465"], resolveThresholds({}), 1000);
    m.tick([scrape(0, { ok: 0 }), scrape(0, { ok: 0 })], 0);
    const { model } = m.tick([scrape(1000, { ok: 40 }), scrape(1000, { ok: 60 })], 1000);
    const screen = renderDashboard(model, { color: false, width: 300 });
    for (const col of ["REQ/S", "5XX%", "503/S", "SHED/S", "P50", "P99", "WORKERS", "RESTARTS", "POOL", "WAIT", "WAL", "LOCK-TO", "ADMIT"])
      assert.match(screen, new RegExp(col.replace("/", "\\/")));
    assert.match(screen, /^127\.0\.0\.1:9464\s+UP\s+40\.0\s/m);
    assert.match(screen, /^TOTAL\s+100\s/m);
    assert.match(screen, /\b4KB\b/, "WAL size");
    assert.match(screen, /ALERTS\s+none/);
    assert.match(renderLines(model), /TOTAL req\/s=100/);
  });

  it("fits 80 columns by dropping the least important columns, never cutting a number; keys pick the panel and the worker order", () => {
    const m = new Monitor(["http://127.0.0.1:9464", "http://127.0.0.1:9465"], resolveThresholds({ for: "0s" }), 1000);
    m.tick([scrape(0, { ok: 0 }), scrape(0, { ok: 0 })], 0);
    const { model } = m.tick([scrape(1000, { ok: 40, errors: 20 }), scrape(1000, { ok: 60 })], 1000);
    const screen = renderDashboard(model, { color: false, width: 80, view: { panel: "all", sort: "slot" } });
    for (const line of screen.split("\n")) assert.ok(line.length <= 80, `longer than 80: ${JSON.stringify(line)}`);
    // The success metrics stay; what explains them goes first.
    const header = screen.split("\n").find((l) => l.startsWith("INSTANCE")) ?? "";
    for (const col of ["STATE", "REQ/S", "5XX%", "P99", "WORKERS", "POOL", "LOCK-TO"]) assert.ok(header.split(/\s+/).includes(col), `${col} kept: ${header}`);
    assert.ok(!header.split(/\s+/).includes("WAL"), "WAL dropped first");
    assert.match(screen, /hidden to fit: WAL /);
    assert.match(screen, /^127\.0\.0\.1:9464\s+UP\s+60\.0\s+33%/m, "numbers whole");
    // The alert's evidence wraps instead of being cut.
    assert.match(screen, /FIRING\s+error-rate/);
    assert.match(screen, /5xx 33% of 60 requests/);
    assert.match(screen, /q quit .* s sort \(slot\)/);

    const workersOnly = renderDashboard(model, { color: false, width: 80, view: { panel: "workers", sort: "rss" } });
    assert.match(workersOnly, /\bRSS↓/);
    assert.doesNotMatch(workersOnly, /^ALERTS/m, "the workers panel alone");
    const alertsOnly = renderDashboard(model, { color: false, width: 80, view: { panel: "alerts", sort: "slot" } });
    assert.doesNotMatch(alertsOnly, /HEARTBEAT/);
    assert.match(alertsOnly, /^ALERTS/m);
  });
});
