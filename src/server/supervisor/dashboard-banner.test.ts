// The banner's colour and words for the states an on-call person must tell apart at a glance.
import assert from "node:assert/strict";
import { test } from "node:test";
import { bannerFor, type BannerInput } from "./dashboard-banner.js";

const now = Date.parse("2026-11-29T12:00:00Z");
const worker = { id: 1, pid: 10, state: "ready", uptimeS: 60, requests: 5, inflight: 0, rssBytes: 1, eventLoopLagMs: 1, restarts: 0, lastHeartbeatMsAgo: 100 };
const base: BannerInput = { now, phase: "running", ready: true, workers: [worker], events: [], firing: [], recent: [{ shed: 0 }] };

test("green when nothing is wrong", () => {
  assert.equal(bannerFor(base).level, "ok");
});

test("red for a recent watchdog kill, naming the worker and its in-flight request; green again after 5 minutes", () => {
  const kill = {
    time: new Date(now - 3000).toISOString(),
    event: "worker.timeout",
    slot: 2,
    workerPid: 77,
    heartbeatAgeMs: 2100,
    inflight: [{ method: "GET", path: "/spin" }],
  };
  const b = bannerFor({ ...base, events: [kill] });
  assert.equal(b.level, "bad");
  assert.match(
    b.reasons[0] ?? "",
    /Watchdog killed worker 2 \(pid 77\) 3 s ago: its event loop was stuck for 2\.1 s with one request in flight \(GET \/spin\)/,
  );
  assert.equal(bannerFor({ ...base, now: now + 6 * 60_000, events: [kill] }).level, "ok");
});

test("red while shedding, on a crash loop and on a critical alert; amber on a warning alert", () => {
  assert.match(bannerFor({ ...base, recent: [{ shed: 0 }, { shed: 12.4 }] }).reasons[0] ?? "", /Shedding load: up to 12 requests\/s/);
  assert.equal(
    bannerFor({ ...base, phase: "stopping", events: [{ time: new Date(now).toISOString(), event: "worker.crashloop", crashes: 5, windowMs: 60000 }] }).level,
    "bad",
  );
  const alert = {
    rule: "error-rate",
    instance: "local",
    state: "firing" as const,
    severity: "critical" as const,
    value: 0.2,
    threshold: 0.01,
    summary: "5xx 20%",
    since: "",
  };
  assert.equal(bannerFor({ ...base, firing: [alert] }).level, "bad");
  assert.equal(bannerFor({ ...base, firing: [{ ...alert, rule: "pool-utilization", severity: "warning" }] }).level, "warn");
});
