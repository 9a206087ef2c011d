/**
 * End to end: a real nginx in front of real small upstreams that produce each cause for real;
 * the doctor, given nginx's own logs (and the app log where the upstream writes one), must name
 * that cause first. A healthy run must give nothing above info.
 */
import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { appendFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import tarn from "tarn";
import { type DoctorResult, runDoctor, toText } from "../src/doctor/index.js";
import { holdfastLine } from "../src/doctor/recorded-lines.js";
import { findBinary, freePort, hit, type RunningProxy, startNginx, tally, tempDir, waitForPort } from "./fixtures/doctor/harness.js";

const NGINX = findBinary("nginx");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, tune?: (s: Server) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  tune?.(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((r) => server.close(() => r(undefined)));
}

async function diagnose(proxy: RunningProxy, extra: { appLog?: string; configFile?: string; db?: string } = {}): Promise<DoctorResult> {
  await sleep(150); // nginx writes log lines as requests end; let the last ones land
  return runDoctor({
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
  }).then((r) => {
    // DOCTOR_E2E_PRINT=1 shows each report, to see what an on-call person would read.
    if (process.env.DOCTOR_E2E_PRINT) process.stderr.write(`\n${toText(r)}`);
    return r;
  });
}

function top(r: DoctorResult): string {
  return `top findings: ${r.findings
    .slice(0, 4)
    .map((f) => `${f.id} (explains ${f.explains}, ${f.severity})`)
    .join("; ")}`;
}

describe("doctor against a real nginx", { concurrency: false }, () => {
  before((t) => {
    if (!NGINX) {
      if (process.env.CI === "true") throw new Error("nginx is not installed, and CI=true: install nginx (apt-get install nginx) to run the doctor's end-to-end tests");
      console.warn("SKIPPING doctor nginx end-to-end tests: nginx not found (apt-get install nginx)");
    }
    void t;
  });

  test("keep-alive race: upstream resets a reused idle connection → keepalive-race first", async (t) => {
    if (!NGINX) return t.skip("nginx not installed");
    // The app drops a kept-alive socket the moment the proxy reuses it, as when its keep-alive timer fires first.
    const { server, port } = await listen((req, res) => {
      const s = req.socket as typeof req.socket & { served?: number };
      s.served = (s.served ?? 0) + 1;
      if (s.served > 1) {
        s.resetAndDestroy();
        return;
      }
      res.end("ok");
    });
    const dir = tempDir("holdfast-doctor-ka-");
    const configFile = join(dir, "holdfast.config.json");
    writeFileSync(configFile, JSON.stringify({ timeouts: { keepAlive: "5s", headers: "6s" }, db: { url: "sqlite::memory:" } }));
    const proxy = await startNginx(NGINX, { upstreamPort: port, upstream: "keepalive 8;" });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 16; i++) statuses.push(await hit(proxy.port, "/api/checkout", "POST"));
      assert.ok((tally(statuses)[502] ?? 0) >= 4, `expected 502s, got ${JSON.stringify(tally(statuses))}`);
      const r = await diagnose(proxy, { configFile });
      assert.equal(r.findings[0]?.id, "keepalive-race", top(r));
      assert.equal(r.findings[0]?.explains, tally(statuses)[502]);
      assert.ok(r.findings[0] && r.findings[0].confidence >= 0.8, "the config confirms the race");
      assert.ok(r.findings.some((f) => f.id === "timeout-budget/keepalive-below-proxy-idle"));
      assert.equal(r.healthy, false);
    } finally {
      await proxy.stop();
      await close(server);
    }
  });

  test("worker killed by a heartbeat watchdog → worker-killed first", async (t) => {
    if (!NGINX) return t.skip("nginx not installed");
    const dir = tempDir("holdfast-doctor-kill-");
    const appLog = join(dir, "app.log");
    writeFileSync(appLog, "");
    const script = join(dir, "worker.mjs");
    writeFileSync(
      script,
      `import http from "node:http";
const server = http.createServer((req, res) => {
  if (req.url === "/slow") { const end = Date.now() + 4000; while (Date.now() < end); }
  res.end("ok");
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => process.send({ t: "listening" }));
setInterval(() => process.send({ t: "beat" }), 50);
`,
    );
    const upstreamPort = await freePort();
    // A minimal supervisor: a worker that misses heartbeats for 800 ms is logged, SIGKILLed and replaced.
    let worker: ChildProcess | undefined;
    let ready = false;
    let lastBeat = Date.now();
    let stopping = false;
    const spawnWorker = () => {
      ready = false;
      const w = fork(script, { env: { ...process.env, PORT: String(upstreamPort) }, stdio: ["ignore", "ignore", "ignore", "ipc"] });
      w.on("message", (m: { t?: string }) => {
        lastBeat = Date.now();
        if (m.t === "listening") ready = true;
      });
      w.on("exit", (code, signal) => {
        appendFileSync(appLog, `${holdfastLine(Date.now(), "worker.exit", { workerId: 1, workerPid: w.pid, code, signal, reason: "timeout" })}\n`);
        if (!stopping) setTimeout(spawnWorker, 300);
      });
      appendFileSync(appLog, `${holdfastLine(Date.now(), "worker.start", { workerId: 1, workerPid: w.pid }, "info")}\n`);
      worker = w;
    };
    // Like holdfast's supervisor, only a worker that said it is ready is watched (a slow boot under load is not a hang).
    const watchdog = setInterval(() => {
      const age = Date.now() - lastBeat;
      if (ready && worker && worker.exitCode === null && worker.signalCode === null && age > 800 && !worker.killed) {
        appendFileSync(appLog, `${holdfastLine(Date.now(), "worker.timeout", { workerId: 1, workerPid: worker.pid, heartbeatAgeMs: age, inflight: [{ method: "GET", path: "/slow", ageMs: age }] })}\n`);
        worker.kill("SIGKILL");
      }
    }, 50);
    let proxy: RunningProxy | undefined;
    try {
      spawnWorker();
      await waitForPort(upstreamPort, 20_000);
      proxy = await startNginx(NGINX, { upstreamPort, location: "proxy_read_timeout 10s; proxy_next_upstream off;" });
      const slow = [hit(proxy.port, "/slow"), hit(proxy.port, "/slow")];
      const others: Promise<number>[] = [];
      for (let i = 0; i < 8; i++) {
        await sleep(150);
        others.push(hit(proxy.port, "/api/orders"));
      }
      const statuses = [...(await Promise.all(slow)), ...(await Promise.all(others))];
      await waitForPort(upstreamPort, 20_000);
      for (let i = 0; i < 5; i++) statuses.push(await hit(proxy.port, "/api/orders"));
      assert.ok((tally(statuses)[502] ?? 0) >= 2, `expected 502s, got ${JSON.stringify(tally(statuses))}`);
      const r = await diagnose(proxy, { appLog });
      assert.equal(r.findings[0]?.id, "worker-killed", top(r));
      assert.equal(r.findings[0]?.explains, tally(statuses)[502]);
      assert.match(r.findings[0]?.evidence.summary ?? "", /worker\.timeout event.* on pid \d+/);
    } finally {
      stopping = true;
      clearInterval(watchdog);
      worker?.kill("SIGKILL");
      await proxy?.stop();
    }
  });

  test("nothing listening on the upstream port → upstream-down first", async (t) => {
    if (!NGINX) return t.skip("nginx not installed");
    const proxy = await startNginx(NGINX, { upstreamPort: await freePort() });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push(await hit(proxy.port, "/api/orders"));
      assert.deepEqual(tally(statuses), { 502: 6 });
      const r = await diagnose(proxy);
      assert.equal(r.findings[0]?.id, "upstream-down", top(r));
      assert.equal(r.findings[0]?.explains, 6);
    } finally {
      await proxy.stop();
    }
  });

  test("upstream slower than proxy_read_timeout → proxy-read-timeout first", async (t) => {
    if (!NGINX) return t.skip("nginx not installed");
    const { server, port } = await listen((_req, res) => {
      setTimeout(() => res.end("late"), 2500).unref();
    });
    const proxy = await startNginx(NGINX, { upstreamPort: port, location: "proxy_read_timeout 1s;" });
    try {
      const statuses = await Promise.all([1, 2, 3, 4].map(() => hit(proxy.port, "/api/report")));
      assert.deepEqual(tally(statuses), { 504: 4 });
      const r = await diagnose(proxy);
      assert.equal(r.findings[0]?.id, "proxy-read-timeout", top(r));
      assert.equal(r.findings[0]?.explains, 4);
      assert.match(r.findings[0]?.evidence.summary ?? "", /\(1 s\)/);
    } finally {
      await proxy.stop();
      await close(server);
    }
  });

  test("database pool exhausted (tarn, max 1) answering 503 POOL_TIMEOUT → pool-exhaustion first, joined by request id", async (t) => {
    if (!NGINX) return t.skip("nginx not installed");
    const dir = tempDir("holdfast-doctor-pool-");
    const appLog = join(dir, "app.log");
    writeFileSync(appLog, "");
    let n = 0;
    const pool = new tarn.Pool({ create: async () => ({ id: ++n }), destroy: () => {}, min: 0, max: 1, acquireTimeoutMillis: 150 });
    const { server, port } = await listen(async (req, res) => {
      const reqId = String(req.headers["x-request-id"] ?? "");
      const started = Date.now();
      try {
        const conn = await pool.acquire().promise;
        await sleep(1000);
        pool.release(conn);
        res.end("ok");
      } catch {
        appendFileSync(appLog, `${holdfastLine(Date.now(), "pool.timeout", { reqId, waitedMs: Date.now() - started, size: 1, busy: 1, waiting: pool.numPendingAcquires(), max: 1 })}\n`);
        res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
        res.end(JSON.stringify({ error: { code: "POOL_TIMEOUT", message: "no connection free", requestId: reqId } }));
      }
    });
    const proxy = await startNginx(NGINX, { upstreamPort: port });
    try {
      const statuses = await Promise.all(Array.from({ length: 10 }, () => hit(proxy.port, "/api/orders")));
      assert.ok((tally(statuses)[503] ?? 0) >= 3, JSON.stringify(tally(statuses)));
      const r = await diagnose(proxy, { appLog });
      assert.equal(r.findings[0]?.id, "pool-exhaustion", top(r));
      assert.equal(r.findings[0]?.explains, tally(statuses)[503]);
    } finally {
      await proxy.stop();
      await close(server);
      await pool.destroy();
    }
  });

  test("SQLite write lock held by another connection → sqlite-lock first", async (t) => {
    if (!NGINX) return t.skip("nginx not installed");
    const dir = tempDir("holdfast-doctor-sqlite-");
    const appLog = join(dir, "app.log");
    writeFileSync(appLog, "");
    const dbPath = join(dir, "app.db");
    const batch = new Database(dbPath);
    batch.pragma("journal_mode = WAL");
    batch.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, item INTEGER)");
    // A "batch job" holds the write lock for the whole test, as a long import would.
    batch.exec("BEGIN IMMEDIATE");
    batch.prepare("INSERT INTO orders (item) VALUES (1)").run();
    const appDb = new Database(dbPath);
    appDb.pragma("busy_timeout = 100");
    const insert = appDb.prepare("INSERT INTO orders (item) VALUES (?)");
    const { server, port } = await listen((req, res) => {
      const started = Date.now();
      try {
        insert.run(2);
        res.end("ok");
      } catch (err) {
        const e = err as { code?: string; message: string };
        appendFileSync(appLog, `${holdfastLine(Date.now(), "db.locked", { reqId: req.headers["x-request-id"], waitedMs: Date.now() - started, path: dbPath, code: e.code })}\n`);
        res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
        res.end(JSON.stringify({ error: { code: "DB_LOCKED", message: e.message } }));
      }
    });
    const proxy = await startNginx(NGINX, { upstreamPort: port });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push(await hit(proxy.port, "/api/orders", "POST"));
      assert.deepEqual(tally(statuses), { 503: 6 });
      const r = await diagnose(proxy, { appLog, db: `sqlite:${dbPath}` });
      assert.equal(r.findings[0]?.id, "sqlite-lock", top(r));
      assert.equal(r.findings[0]?.explains, 6);
      assert.equal(r.data.probes.sqlite?.[0]?.journalMode, "wal", "the SQLite probe read the live file");
    } finally {
      await proxy.stop();
      await close(server);
      batch.exec("ROLLBACK");
      appDb.close();
      batch.close();
    }
  });

  test("healthy: keep-alive set right, fast answers → nothing above info", async (t) => {
    if (!NGINX) return t.skip("nginx not installed");
    const { server, port } = await listen(
      (_req, res) => res.end("ok"),
      (s) => {
        s.keepAliveTimeout = 65_000;
        s.headersTimeout = 66_000;
      },
    );
    const dir = tempDir("holdfast-doctor-ok-");
    const configFile = join(dir, "holdfast.config.json");
    writeFileSync(configFile, JSON.stringify({ timeouts: { keepAlive: "65s", headers: "66s", deadline: "30s" }, db: { url: "sqlite::memory:" } }));
    const proxy = await startNginx(NGINX, { upstreamPort: port, upstream: "keepalive 8; keepalive_timeout 60s;", location: "proxy_read_timeout 60s;" });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push(await hit(proxy.port, i % 3 ? "/api/orders" : "/api/checkout", i % 3 ? "GET" : "POST"));
      assert.deepEqual(tally(statuses), { 200: 30 });
      const r = await diagnose(proxy, { configFile });
      const loud = r.findings.filter((f) => f.severity !== "info");
      assert.deepEqual(
        loud.map((f) => f.id),
        [],
        top(r),
      );
      assert.equal(r.healthy, true);
      assert.equal(r.data.proxyRequests, 30);
    } finally {
      await proxy.stop();
      await close(server);
    }
  });

  after(() => {});
});
