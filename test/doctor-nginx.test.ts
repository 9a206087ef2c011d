/**
 * End to end: a real nginx in front of real small upstreams that produce each cause for real;
 * the doctor, given nginx's own logs (and the app log where the upstream writes one), must name
 * that cause first. A healthy run must give nothing above info.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type DoctorResult, runDoctor, toText } from "../src/doctor/index.js";
import { findBinary, freePort, hit, type RunningProxy, readLines, startNginx, tally, tempDir, waitForPort, withProxy } from "./fixtures/doctor/harness.js";
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

const NGINX = findBinary("nginx");

function skipUnlessNginx(t: { skip: (m: string) => void }): boolean {
  if (NGINX) return false;
  missingService(t, "nginx is not installed — apt-get install -y nginx to run the doctor's nginx end-to-end tests");
  return true;
}

async function diagnose(proxy: RunningProxy, requests: number, extra: { appLog?: string; configFile?: string; db?: string } = {}): Promise<DoctorResult> {
  // nginx writes an access line as each request ends, after the client has its answer: wait for all of them.
  await eventually(() => readLines(proxy.accessLog).length >= requests, 10_000, `${requests} access log lines`);
  const r = await runDoctor({
    logs: [
      { kind: "nginx-access", file: proxy.accessLog },
      { kind: "nginx-error", file: proxy.errorLog },
      ...(extra.appLog ? [{ kind: "app" as const, file: extra.appLog }] : []),
    ],
    nginxConfig: proxy.configFile,
    configFile: extra.configFile,
    db: extra.db,
    system: false,
    progress: false,
  });
  // DOCTOR_E2E_PRINT=1 shows each report, to see what an on-call person would read.
  if (process.env.DOCTOR_E2E_PRINT) process.stderr.write(`\n${toText(r)}`);
  return r;
}

function top(r: DoctorResult): string {
  return `top findings: ${r.findings
    .slice(0, 4)
    .map((f) => `${f.id} (explains ${f.explains}, ${f.severity})`)
    .join("; ")}`;
}

/** Starts an upstream and nginx in front of it, runs `body`, and always stops both. */
function withNginx(
  upstream: Promise<Upstream>,
  nginx: { upstream?: string; location?: string },
  body: (proxy: RunningProxy, up: Upstream) => Promise<void>,
): Promise<void> {
  return withProxy(upstream, (upstreamPort) => startNginx(NGINX as string, { upstreamPort, ...nginx }), body);
}

describe("doctor against a real nginx", { concurrency: false }, () => {
  test("keep-alive race: upstream resets a reused idle connection → keepalive-race first", async (t) => {
    if (skipUnlessNginx(t)) return;
    const configFile = join(tempDir("holdfast-doctor-ka-"), "holdfast.config.json");
    writeFileSync(configFile, JSON.stringify({ timeouts: { keepAlive: "5s", headers: "6s" }, db: { url: "sqlite::memory:" } }));
    await withNginx(resettingUpstream(), { upstream: "keepalive 8;" }, async (proxy) => {
      const statuses: number[] = [];
      for (let i = 0; i < 16; i++) statuses.push(await hit(proxy.port, "/api/checkout", "POST"));
      assert.ok((tally(statuses)[502] ?? 0) >= 4, `expected 502s, got ${JSON.stringify(tally(statuses))}`);
      const r = await diagnose(proxy, statuses.length, { configFile });
      assert.equal(r.findings[0]?.id, "keepalive-race", top(r));
      assert.equal(r.findings[0]?.explains, tally(statuses)[502]);
      assert.ok(r.findings[0] && r.findings[0].confidence >= 0.8, "the config confirms the race");
      assert.ok(r.findings.some((f) => f.id === "timeout-budget/keepalive-below-proxy-idle"));
      assert.equal(r.healthy, false);
    });
  });

  test("worker killed by a heartbeat watchdog → worker-killed first", async (t) => {
    if (skipUnlessNginx(t)) return;
    await withNginx(stallingSupervisor(), { location: "proxy_read_timeout 10s; proxy_next_upstream off;" }, async (proxy, up) => {
      const slow = [hit(proxy.port, "/slow"), hit(proxy.port, "/slow")];
      const others: Promise<number>[] = [];
      for (let i = 0; i < 8; i++) {
        await sleep(150);
        others.push(hit(proxy.port, "/api/orders"));
      }
      const statuses = [...(await Promise.all(slow)), ...(await Promise.all(others))];
      await waitForPort(up.port, 20_000);
      for (let i = 0; i < 5; i++) statuses.push(await hit(proxy.port, "/api/orders"));
      assert.ok((tally(statuses)[502] ?? 0) >= 2, `expected 502s, got ${JSON.stringify(tally(statuses))}`);
      const r = await diagnose(proxy, statuses.length, { appLog: up.appLog });
      assert.equal(r.findings[0]?.id, "worker-killed", top(r));
      assert.equal(r.findings[0]?.explains, tally(statuses)[502]);
      assert.match(r.findings[0]?.evidence.summary ?? "", /worker\.timeout event.* on pid \d+/);
    });
  });

  test("nothing listening on the upstream port → upstream-down first", async (t) => {
    if (skipUnlessNginx(t)) return;
    const proxy = await startNginx(NGINX as string, { upstreamPort: await freePort() });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push(await hit(proxy.port, "/api/orders"));
      assert.deepEqual(tally(statuses), { 502: 6 });
      const r = await diagnose(proxy, statuses.length);
      assert.equal(r.findings[0]?.id, "upstream-down", top(r));
      assert.equal(r.findings[0]?.explains, 6);
    } finally {
      await proxy.stop();
    }
  });

  test("upstream slower than proxy_read_timeout → proxy-read-timeout first", async (t) => {
    if (skipUnlessNginx(t)) return;
    await withNginx(slowUpstream(2500), { location: "proxy_read_timeout 1s;" }, async (proxy) => {
      const statuses = await Promise.all([1, 2, 3, 4].map(() => hit(proxy.port, "/api/report")));
      assert.deepEqual(tally(statuses), { 504: 4 });
      const r = await diagnose(proxy, statuses.length);
      assert.equal(r.findings[0]?.id, "proxy-read-timeout", top(r));
      assert.equal(r.findings[0]?.explains, 4);
      assert.match(r.findings[0]?.evidence.summary ?? "", /\(1 s\)/);
    });
  });

  test("database pool exhausted (tarn, max 1) answering 503 POOL_TIMEOUT → pool-exhaustion first, joined by request id", async (t) => {
    if (skipUnlessNginx(t)) return;
    await withNginx(poolExhaustedUpstream(), {}, async (proxy, up) => {
      const statuses = await Promise.all(Array.from({ length: 10 }, () => hit(proxy.port, "/api/orders")));
      assert.ok((tally(statuses)[503] ?? 0) >= 3, JSON.stringify(tally(statuses)));
      const r = await diagnose(proxy, statuses.length, { appLog: up.appLog });
      assert.equal(r.findings[0]?.id, "pool-exhaustion", top(r));
      assert.equal(r.findings[0]?.explains, tally(statuses)[503]);
    });
  });

  test("SQLite write lock held by another connection → sqlite-lock first", async (t) => {
    if (skipUnlessNginx(t)) return;
    const upstream = lockedSqliteUpstream();
    const { dbPath } = await upstream;
    await withNginx(upstream, {}, async (proxy, up) => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push(await hit(proxy.port, "/api/orders", "POST"));
      assert.deepEqual(tally(statuses), { 503: 6 });
      const r = await diagnose(proxy, statuses.length, { appLog: up.appLog, db: `sqlite:${dbPath}` });
      assert.equal(r.findings[0]?.id, "sqlite-lock", top(r));
      assert.equal(r.findings[0]?.explains, 6);
      assert.equal(r.data.probes.sqlite?.[0]?.journalMode, "wal", "the SQLite probe read the live file");
    });
  });

  test("healthy: keep-alive set right, fast answers → nothing above info", async (t) => {
    if (skipUnlessNginx(t)) return;
    const configFile = join(tempDir("holdfast-doctor-ok-"), "holdfast.config.json");
    writeFileSync(configFile, JSON.stringify({ timeouts: { keepAlive: "65s", headers: "66s", deadline: "30s" }, db: { url: "sqlite::memory:" } }));
    await withNginx(healthyUpstream(), { upstream: "keepalive 8; keepalive_timeout 60s;", location: "proxy_read_timeout 60s;" }, async (proxy) => {
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push(await hit(proxy.port, i % 3 ? "/api/orders" : "/api/checkout", i % 3 ? "GET" : "POST"));
      assert.deepEqual(tally(statuses), { 200: 30 });
      const r = await diagnose(proxy, statuses.length, { configFile });
      assert.deepEqual(
        r.findings.filter((f) => f.severity !== "info").map((f) => f.id),
        [],
        top(r),
      );
      assert.equal(r.healthy, true);
      assert.equal(r.data.proxyRequests, 30);
    });
  });
});
