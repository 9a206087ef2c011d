/**
 * End to end with a real HAProxy (its log piped to a file by the harness): refused connections
 * (SC), a server slower than `timeout server` (sH), and a healthy run.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type DoctorResult, runDoctor } from "../src/doctor/index.js";
import { findBinary, freePort, hit, type RunningProxy, readLines, startHaproxy, tally, waitForPort, withProxy } from "./fixtures/doctor/harness.js";
import {
  healthyUpstream,
  lockedSqliteUpstream,
  poolExhaustedUpstream,
  resettingUpstream,
  slowUpstream,
  stallingSupervisor,
  type Upstream,
} from "./fixtures/doctor/upstreams.js";
import { missingService } from "./support/require-service.js";
import { eventually, sleep } from "./support/wait.js";

const HAPROXY = findBinary("haproxy");

function skipUnlessHaproxy(t: { skip: (m: string) => void }): boolean {
  if (HAPROXY) return false;
  missingService(t, "haproxy is not installed — apt-get install -y haproxy to run the doctor's HAProxy end-to-end tests");
  return true;
}

async function diagnose(proxy: RunningProxy, requests: number, appLog?: string): Promise<DoctorResult> {
  // HAProxy writes a request's line when it closes the stream, which can be just after the client
  // has its response; under a loaded suite that can take seconds: wait up to 10 s (bounded). The
  // harness's port probe is logged as a 400 <BADREQ> only sometimes (dontlognull drops it when it
  // closed before sending anything), so it is not counted: waiting for it cost 10 s in most tests.
  const logged = () => readLines(proxy.accessLog).filter((l) => !l.includes("<BADREQ>")).length;
  await eventually(() => logged() >= requests, 10_000, `${requests} access log lines`).catch(() => {});
  return runDoctor({
    logs: [{ kind: "haproxy", file: proxy.accessLog }, ...(appLog ? [{ kind: "app" as const, file: appLog }] : [])],
    haproxyConfig: proxy.configFile,
    system: false,
    progress: false,
  });
}

/** Starts an upstream and HAProxy in front of it, runs `body`, and always stops both. */
function withHaproxy(
  upstream: Promise<Upstream>,
  o: { timeoutServer: string; backend?: string },
  body: (proxy: RunningProxy, up: Upstream) => Promise<void>,
): Promise<void> {
  return withProxy(upstream, (upstreamPort) => startHaproxy(HAPROXY as string, { upstreamPort, ...o }), body);
}

const top = (r: DoctorResult) => r.findings.map((f) => `${f.id}:${f.explains}`).join(", ");

describe("doctor against a real HAProxy", { concurrency: false }, () => {
  test("nothing listening behind HAProxy (SC) → upstream-down first", async (t) => {
    if (skipUnlessHaproxy(t)) return;
    const proxy = await startHaproxy(HAPROXY as string, { upstreamPort: await freePort(), timeoutServer: "5s" });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push(await hit(proxy.port, "/api/orders"));
      assert.deepEqual(tally(statuses), { 503: 4 });
      const r = await diagnose(proxy, 4);
      assert.equal(r.findings[0]?.id, "upstream-down", top(r));
      assert.equal(r.findings[0]?.explains, 4, `HAProxy's log:\n${readLines(proxy.accessLog).join("\n")}`);
    } finally {
      await proxy.stop();
    }
  });

  test("server slower than timeout server (sH) → proxy-read-timeout first, with HAProxy's timeout read from its config", async (t) => {
    if (skipUnlessHaproxy(t)) return;
    await withHaproxy(slowUpstream(2500), { timeoutServer: "1s" }, async (proxy) => {
      const statuses = await Promise.all([1, 2, 3].map(() => hit(proxy.port, "/api/report")));
      assert.deepEqual(tally(statuses), { 504: 3 });
      const r = await diagnose(proxy, 3);
      assert.equal(r.findings[0]?.id, "proxy-read-timeout", top(r));
      assert.equal(r.findings[0]?.explains, 3);
      assert.match(r.findings[0]?.evidence.summary ?? "", /\(1 s\)/);
    });
  });

  test("server resets a reused idle connection (SH, http-reuse always) → keepalive-race first", async (t) => {
    if (skipUnlessHaproxy(t)) return;
    await withHaproxy(resettingUpstream(), { timeoutServer: "5s", backend: "http-reuse always" }, async (proxy) => {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push(await hit(proxy.port, "/api/checkout", "POST"));
      const failed = tally(statuses)[502] ?? 0;
      assert.ok(failed >= 2, JSON.stringify(tally(statuses)));
      const r = await diagnose(proxy, 8);
      assert.equal(r.findings[0]?.id, "keepalive-race", top(r));
      assert.equal(r.findings[0]?.explains, failed);
    });
  });

  test("worker killed by a heartbeat watchdog behind HAProxy (SH after the stall) → worker-killed first", async (t) => {
    if (skipUnlessHaproxy(t)) return;
    await withHaproxy(stallingSupervisor(), { timeoutServer: "10s" }, async (proxy, up) => {
      const slow = hit(proxy.port, "/slow");
      const others: Promise<number>[] = [];
      for (let i = 0; i < 6; i++) {
        await sleep(150);
        others.push(hit(proxy.port, "/api/orders"));
      }
      const statuses = [await slow, ...(await Promise.all(others))];
      await waitForPort(up.port, 20_000);
      const failed = statuses.filter((s) => s >= 500).length;
      assert.ok(failed >= 1, JSON.stringify(tally(statuses)));
      const r = await diagnose(proxy, statuses.length, up.appLog);
      const evidence = () =>
        `${top(r)}\nstatuses ${JSON.stringify(statuses)}\nHAProxy's log:\n${readLines(proxy.accessLog).join("\n")}\napp log:\n${readLines(up.appLog).join("\n")}`;
      assert.equal(r.findings[0]?.id, "worker-killed", evidence());
      assert.equal(r.findings[0]?.explains, failed, evidence());
    });
  });

  test("pool exhausted behind HAProxy: 503s joined to pool.timeout by time → pool-exhaustion first", async (t) => {
    if (skipUnlessHaproxy(t)) return;
    await withHaproxy(poolExhaustedUpstream(), { timeoutServer: "10s" }, async (proxy, up) => {
      const statuses = await Promise.all(Array.from({ length: 8 }, () => hit(proxy.port, "/api/orders")));
      const failed = tally(statuses)[503] ?? 0;
      assert.ok(failed >= 3, JSON.stringify(tally(statuses)));
      const r = await diagnose(proxy, 8, up.appLog);
      assert.equal(r.findings[0]?.id, "pool-exhaustion", top(r));
      assert.equal(r.findings[0]?.explains, failed);
    });
  });

  test("locked SQLite behind HAProxy → sqlite-lock first", async (t) => {
    if (skipUnlessHaproxy(t)) return;
    await withHaproxy(lockedSqliteUpstream(), { timeoutServer: "10s" }, async (proxy, up) => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push(await hit(proxy.port, "/api/orders", "POST"));
      assert.deepEqual(tally(statuses), { 503: 4 });
      const r = await diagnose(proxy, 4, up.appLog);
      assert.equal(r.findings[0]?.id, "sqlite-lock", top(r));
      assert.equal(r.findings[0]?.explains, 4);
    });
  });

  test("healthy HAProxy run → nothing above info", async (t) => {
    if (skipUnlessHaproxy(t)) return;
    await withHaproxy(healthyUpstream(), { timeoutServer: "30s" }, async (proxy) => {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push(await hit(proxy.port, "/api/orders"));
      assert.deepEqual(tally(statuses), { 200: 10 });
      const r = await diagnose(proxy, 10);
      // The harness's port probe shows up as one 400 <BADREQ> (CR--): a real line, not a failure.
      assert.equal(r.data.statusCounts["200"], 10, "every request logged and read");
      assert.deepEqual(
        r.findings.filter((f) => f.severity !== "info").map((f) => f.id),
        [],
      );
    });
  });
});
