/**
 * Scale-out proven by losing an instance under load: three `holdfast serve examples/notes/app.js`
 * (one worker each) on PostgreSQL + Redis behind the nginx, then the HAProxy, config that
 * `holdfast proxy-config` generates, a mixed read/write load of ~200 requests/s, and in turn:
 * `kill -9` of one instance (supervisor and worker), a rolling SIGHUP of the two others, their
 * Redis cache connections killed, their PostgreSQL connections terminated. Checks: no GET fails
 * (the proxy retries them), every POST answered 2xx is in the database, every other POST was
 * answered as an error, the reload fails no request (GET or POST), Redis gone gives no 5xx, PostgreSQL gone gives
 * 503 + Retry-After at worst and recovers within 2 s. Prints the figures as a table
 * (docs/scaling.md records them). Real processes on loopback; the load is bounded in rate, in
 * flight and in time.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { CLI, type HoldfastProcess, startHoldfast } from "../support/holdfast-process.js";
import { onFreshPort } from "../support/ports.js";
import { adminQuery, requirePostgres, terminateApp } from "../support/postgres.js";
import { REDIS_URL } from "../support/redis.js";
import { requireBinary } from "../support/require-service.js";
import { eventually } from "../support/wait.js";
import { Redis } from "ioredis";
import { dropNamespace, freshSchema, requireRedis, waitReady } from "./services.js";

const NOTES = new URL("../../examples/notes/app.js", import.meta.url).pathname;
const RATE = Number(process.env.HOLDFAST_TEST_SCALE_RATE ?? 200); // requests/s offered, open loop
const DURATION_MS = Number(process.env.HOLDFAST_TEST_SCALE_SECONDS ?? 30) * 1000;
const MAX_INFLIGHT = 150; // past this the generator skips a tick instead of piling up (counted)

const PHASES = ["steady", "kill -9", "rolling SIGHUP", "after reload", "Redis killed", "PostgreSQL killed"] as const;
type Phase = (typeof PHASES)[number];
interface Outcome {
  method: "GET" | "POST";
  phase: Phase;
  startedAt: number; // ms since the load started
  status: number; // 0 = no HTTP answer (connection error)
  retryAfter: string | null;
  /** error.code of a 503 body (OVERLOADED when admission control shed it). */
  code?: string;
  ms: number;
  title?: string;
}

/** nginx in the foreground on `dir`, running the generated config; resolves once `probe` answers 200 through it. */
export async function startNginx(nginx: string, dir: string, snippet: string, listen: number, probe = "/api/notes?limit=1"): Promise<ChildProcess> {
  // recursive: a second attempt on another port (onFreshPort) finds them made.
  mkdirSync(join(dir, "logs"), { recursive: true });
  mkdirSync(join(dir, "tmp"), { recursive: true });
  writeFileSync(join(dir, "holdfast.conf"), snippet.replaceAll("/var/log/nginx/", `${dir}/logs/`));
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((k) => `  ${k}_temp_path ${dir}/tmp/${k};`).join("\n");
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1;\nerror_log ${dir}/logs/error.log warn;\npid ${dir}/nginx.pid;\nevents { worker_connections 1024; }\nhttp {\n${temp}\n  include ${dir}/holdfast.conf;\n}\n`,
  );
  const check = spawnSync(nginx, ["-t", "-p", dir, "-c", join(dir, "nginx.conf")], { encoding: "utf8" });
  assert.equal(check.status, 0, check.stderr);
  const child = spawn(nginx, ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
  if (!(await proxyAnswers(child, `http://127.0.0.1:${listen}${probe}`))) {
    child.kill("SIGKILL");
    throw new Error(`nginx did not answer on ${listen}: ${readFileSync(join(dir, "logs/error.log"), "utf8")}`);
  }
  return child;
}

/** Polls `url` until the proxy answers 2xx (true), or it exits or 10 s pass (false). */
async function proxyAnswers(child: ChildProcess, url: string): Promise<boolean> {
  const answered = await eventually(
    async () =>
      child.exitCode !== null
        ? "exited"
        : (await fetch(url)
            .then((r) => r.ok)
            .catch(() => false)) && "ok",
    10_000,
    `an answer from ${url}`,
  ).catch(() => "timeout");
  return answered === "ok";
}

/** Waits until `hf` has finished a rolling reload (its log says so) and /readyz answers 200. */
async function reloaded(hf: HoldfastProcess, ms = 30_000): Promise<void> {
  await hf.waitForLog((l) => l.event === "reload" && (l.phase === "done" || l.phase === "failed"), ms);
  await waitReady(hf.adminUrl, ms);
}

/** HAProxy in the foreground running the generated file (bound to loopback here); resolves once it answers. */
async function startHaproxy(haproxy: string, dir: string, cfg: string, listen: number): Promise<ChildProcess> {
  mkdirSync(join(dir, "logs"), { recursive: true });
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, cfg.replace(`bind :${listen}`, `bind 127.0.0.1:${listen}`));
  const check = spawnSync(haproxy, ["-c", "-f", file], { encoding: "utf8" });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const child = spawn(haproxy, ["-db", "-f", file], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  if (!(await proxyAnswers(child, `http://127.0.0.1:${listen}/api/notes?limit=1`))) {
    child.kill("SIGKILL");
    throw new Error(`haproxy did not answer on ${listen}: ${err}`);
  }
  writeFileSync(join(dir, "logs/error.log"), "");
  child.stderr?.on("data", (d) => writeFileSync(join(dir, "logs/error.log"), String(d), { flag: "a" }));
  return child;
}

/** The whole scenario behind `kind`, as one test (test/scale/scale-nginx.test.ts, scale-haproxy.test.ts). */
export async function scaleScenario(t: TestContext, kind: "nginx" | "haproxy"): Promise<void> {
  {
    const proxyBin = requireBinary(t, kind, [`/usr/sbin/${kind}`]);
    if (!proxyBin || !(await requirePostgres(t)) || !(await requireRedis(t))) return;
    const db = await freshSchema("hf_scale");
    const ns = `hf-scale-${randomBytes(4).toString("hex")}`;
    // Our own application_name, so pg_terminate_backend hits this test's connections and no one else's.
    const appName = `hf_scale_${randomBytes(4).toString("hex")}`;
    const dbUrl = new URL(db.url);
    dbUrl.searchParams.set("application_name", appName);
    const dir = mkdtempSync(join(tmpdir(), "hf-scale-"));
    const env = {
      HOLDFAST_DB_URL: dbUrl.toString(),
      HOLDFAST_CACHE_URL: REDIS_URL,
      HOLDFAST_CACHE_NAMESPACE: ns,
      HOLDFAST_DB_POOL_MAX: "4",
      // The machine is shared with other engineers' builds and benchmarks: the event-loop guard would
      // shed on their load, not ours. This test is about losing an instance; admission has its own tests.
      HOLDFAST_ADMISSION_EVENT_LOOP_DELAY: "0",
      // Same reason for the concurrency limit: under other engineers' load it sheds 3–5 % of requests
      // (measured), which would hide or fake what this test is about. Requests queue instead.
      HOLDFAST_ADMISSION_MODE: "off",
      HOLDFAST_LOG_REQUESTS: "false",
    };
    const instances: HoldfastProcess[] = [];
    let proxy: ChildProcess | undefined;
    t.after(async () => {
      proxy?.kill("SIGTERM");
      await Promise.all(instances.map((hf) => hf.stop().catch(() => null)));
      await db.drop();
      await dropNamespace(ns);
      if (!process.env.HOLDFAST_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
    });
    // Each instance binds a port of its own choosing (port 0) and the proxy is pointed at what it got: a
    // port picked free beforehand was once taken by another test's process before holdfast bound it.
    for (let i = 0; i < 3; i++) instances.push(await startHoldfast(NOTES, { env, workers: 1 }));
    await Promise.all(instances.map((hf) => waitReady(hf.adminUrl)));
    const [a, b, c] = instances as [HoldfastProcess, HoldfastProcess, HoldfastProcess];

    // Each upstream with its own admin port, as HAProxy's health checks need.
    const upstreams = instances.map((hf) => `127.0.0.1:${new URL(hf.appUrl).port},admin=${new URL(hf.adminUrl).port}`);
    // The proxy listens on a port written into its config; another test's process may take it first.
    const listen = await onFreshPort(async (port) => {
      const gen = spawnSync(process.execPath, [CLI, "proxy-config", kind, ...upstreams.flatMap((u) => ["--upstream", u]), "--listen", String(port)], {
        cwd: dir,
        encoding: "utf8",
      });
      assert.equal(gen.status, 0, gen.stderr);
      proxy = kind === "nginx" ? await startNginx(proxyBin, dir, gen.stdout, port) : await startHaproxy(proxyBin, dir, gen.stdout, port);
      return port;
    });
    const base = `http://127.0.0.1:${listen}`;

    // A few notes to read by id.
    const seeded: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${base}/api/notes`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ title: `seed-${i}` }),
      });
      assert.equal(r.status, 201);
      seeded.push(((await r.json()) as { note: { id: number } }).note.id);
    }

    let phase: Phase = "steady";
    const outcomes: Outcome[] = [];
    let skipped = 0;
    let inflight = 0;
    let seq = 0;
    const one = async () => {
      const n = seq++;
      const p = phase;
      const started = performance.now();
      const startedAt = Date.now() - loadStart;
      const isPost = n % 10 < 3; // 30 % writes
      const title = isPost ? `load-${n}-${randomBytes(3).toString("hex")}` : undefined;
      let status = 0;
      let retryAfter: string | null = null;
      let code: string | undefined;
      try {
        const r = isPost
          ? await fetch(`${base}/api/notes`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ title }),
              signal: AbortSignal.timeout(15_000),
            })
          : await fetch(n % 2 ? `${base}/api/notes?limit=10` : `${base}/api/notes/${seeded[n % seeded.length]}`, { signal: AbortSignal.timeout(15_000) });
        const body = await r.text();
        status = r.status;
        retryAfter = r.headers.get("retry-after");
        if (status === 503) code = /"code":"([A-Z_]+)"/.exec(body)?.[1];
      } catch {
        status = 0;
      }
      outcomes.push({
        method: isPost ? "POST" : "GET",
        phase: p,
        startedAt,
        status,
        retryAfter,
        ...(code ? { code } : {}),
        ms: performance.now() - started,
        ...(title ? { title } : {}),
      });
    };
    const pending = new Set<Promise<void>>();
    const loadStart = Date.now();
    const tickMs = 20;
    const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
    // The phases below may run late on a busy machine: the load lasts until the last one has had 4 s.
    let endAt = DURATION_MS;
    let phasesDone = false;
    const generator = (async () => {
      let next = Date.now();
      while (Date.now() - loadStart < endAt || !phasesDone) {
        for (let i = 0; i < perTick; i++) {
          if (inflight >= MAX_INFLIGHT) {
            skipped++;
            continue;
          }
          inflight++;
          const p = one().finally(() => {
            inflight--;
            pending.delete(p);
          });
          pending.add(p);
        }
        next += tickMs;
        await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
      }
    })();

    const waitUntil = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, loadStart + ms - Date.now())));
    // kill -9 of instance c's supervisor and worker, a quarter of the way in.
    await waitUntil(DURATION_MS * 0.25);
    const victims = [c.child.pid as number, ...(await c.status()).workers.map((w) => w.pid)];
    phase = "kill -9";
    for (const pid of victims) process.kill(pid, "SIGKILL");
    const killedAt = Date.now() - loadStart;
    // Rolling SIGHUP of the other two, one after the other, from half-way.
    await waitUntil(DURATION_MS * 0.5);
    phase = "rolling SIGHUP";
    const hupStart = Date.now() - loadStart;
    for (const hf of [a, b]) {
      hf.child.kill("SIGHUP");
      await reloaded(hf);
    }
    const hupMs = Date.now() - loadStart - hupStart;
    phase = "after reload";
    // Redis: kill the cache connections of our workers (by their client names, not other users of the shared server).
    // After the reload window (see inReload below), so failures there cannot hide a Redis 5xx.
    await waitUntil(Math.max(DURATION_MS * 0.6, Date.now() - loadStart + 10_000));
    const pids = new Set((await Promise.all([a, b].map((hf) => hf.status()))).flatMap((s) => s.workers.map((w) => w.pid)));
    const redis = new Redis(REDIS_URL);
    const ours = (await redis.call("CLIENT", "LIST")) as string;
    const ids = ours
      .split("\n")
      .filter((l) => [...pids].some((pid) => l.includes(` name=holdfast-cache-${pid} `)))
      .map((l) => /(?:^| )id=(\d+)/.exec(l)?.[1])
      .filter((id): id is string => id !== undefined);
    phase = "Redis killed";
    const redisKilledAt = Date.now() - loadStart;
    for (const id of ids) await redis.call("CLIENT", "KILL", "ID", id);
    redis.disconnect();
    // PostgreSQL: terminate every connection of our instances.
    await waitUntil(Math.max(DURATION_MS * 0.8, redisKilledAt + 3000));
    phase = "PostgreSQL killed";
    const pgKilledAt = Date.now() - loadStart;
    const terminated = await terminateApp(appName);
    endAt = Math.max(endAt, pgKilledAt + 4000);
    phasesDone = true;
    await generator;
    await Promise.all([...pending]);
    const seconds = (Date.now() - loadStart) / 1000;

    // Every POST answered 2xx is in PostgreSQL; POSTs answered otherwise were reported as errors.
    const posts = outcomes.filter((o) => o.method === "POST");
    const titles = new Set((await adminQuery<{ title: string }>(`select title from ${db.schema}.notes where title like 'load-%'`)).map((r) => r.title));
    const acked = posts.filter((o) => o.status >= 200 && o.status < 300);
    const lost = acked.filter((o) => !titles.has(o.title as string));
    const failedPosts = posts.filter((o) => !(o.status >= 200 && o.status < 300));
    const failedButWritten = failedPosts.filter((o) => titles.has(o.title as string));
    // Admission control's 503 + Retry-After (OVERLOADED) is holdfast's designed answer when the shared
    // machine is too busy, not a request lost to the kill or the reload: counted apart, and bounded.
    const shed = (o: Outcome) => o.status === 503 && o.code === "OVERLOADED" && o.retryAfter !== null;
    const sheds = outcomes.filter(shed);
    // The PostgreSQL phase may answer 503 + Retry-After by design; it is checked on its own below.
    // A request still running when PostgreSQL's connections were terminated belongs to that phase,
    // whenever it started: it may answer 503 + Retry-After by design, checked on its own below.
    const duringPgKill = (o: Outcome) => o.startedAt + o.ms >= pgKilledAt;
    // The reload's window: from the first SIGHUP until 10 s (the proxies' fail_timeout / fall
    // window) after the last reload finished, since an instance marked down by a failure there would
    // stay down that long. Every request in it must succeed (asserted below, GETs and POSTs alike).
    const inReload = (o: Outcome) => o.startedAt >= hupStart && o.startedAt < hupStart + hupMs + 10_000;
    const failedGets = outcomes.filter((o) => o.method === "GET" && o.status !== 200 && !shed(o) && !duringPgKill(o) && !inReload(o));
    const hupFailures = outcomes.filter((o) => inReload(o) && !duringPgKill(o) && !(o.status >= 200 && o.status < 300) && !shed(o));
    const redis5xx = outcomes.filter((o) => o.phase === "Redis killed" && !duringPgKill(o) && !inReload(o) && (o.status === 0 || o.status >= 500));
    const pgFailures = outcomes.filter((o) => duringPgKill(o) && !(o.status >= 200 && o.status < 300));
    const pgLastFailure = Math.max(pgKilledAt, ...pgFailures.map((o) => o.startedAt));

    const rows = PHASES.map((p) => {
      const os = outcomes.filter((o) => o.phase === p);
      const ms = os.map((o) => o.ms).sort((x, y) => x - y);
      const pct = (q: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]?.toFixed(0) : "-");
      const fail = (m: string) => os.filter((o) => o.method === m && !(o.status >= 200 && o.status < 300)).length;
      return `| ${p} | ${os.length} | ${os.filter((o) => o.method === "GET").length} | ${fail("GET")} | ${os.filter((o) => o.method === "POST").length} | ${fail("POST")} | ${os.filter(shed).length} | ${pct(0.5)} | ${pct(0.99)} |`;
    });
    const statuses = [...new Set(outcomes.map((o) => `${o.method} ${o.status}`))]
      .map((k) => `${k}: ${outcomes.filter((o) => `${o.method} ${o.status}` === k).length}`)
      .join(", ");
    console.log(
      [
        "",
        `scale test: 3 instances × 1 worker behind ${kind}, ${outcomes.length} requests in ${seconds.toFixed(1)} s (${(outcomes.length / seconds).toFixed(0)}/s offered ${RATE}/s; ${skipped} ticks skipped at ${MAX_INFLIGHT} in flight)`,
        `kill -9 at ${(killedAt / 1000).toFixed(1)} s; rolling SIGHUP of 2 instances from ${(hupStart / 1000).toFixed(1)} s, took ${(hupMs / 1000).toFixed(1)} s; ` +
          `${ids.length} Redis cache connections killed at ${(redisKilledAt / 1000).toFixed(1)} s; ${terminated} PostgreSQL connections terminated at ${(pgKilledAt / 1000).toFixed(1)} s, ` +
          `last failure started ${((pgLastFailure - pgKilledAt) / 1000).toFixed(2)} s after`,
        "| phase | requests | GET | GET failed | POST | POST failed | of which shed (503 OVERLOADED) | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|---|",
        ...rows,
        `POST answered 2xx: ${acked.length}, in the database: ${acked.length - lost.length}; POST answered as errors: ${failedPosts.length} (of which written anyway: ${failedButWritten.length})`,
        `answers: ${statuses}`,
        "instance warnings and errors (event: count):",
        ...instances.map((hf, i) => {
          const counts = new Map<string, number>();
          for (const l of hf.logLines())
            if (l.level === "warn" || l.level === "error")
              counts.set(`${l.event}${l.reason ? `/${l.reason}` : ""}`, (counts.get(`${l.event}${l.reason ? `/${l.reason}` : ""}`) ?? 0) + 1);
          return `  instance ${i + 1}: ${[...counts].map(([k, n]) => `${k}: ${n}`).join(", ") || "none"}`;
        }),
        `${kind} error log (distinct messages, first 20):`,
        ...[
          ...new Set(
            readFileSync(join(dir, "logs/error.log"), "utf8")
              .split("\n")
              .map((l) =>
                l
                  .replace(/^.*?\[(\w+)\] \d+#\d+: \*?\d* ?/, "[$1] ")
                  .replace(/, client:.*upstream: "([^"]*)".*$/, " ($1)")
                  .replace(/, client:.*$/, ""),
              ),
          ),
        ].slice(0, 20),
        "",
      ].join("\n"),
    );

    assert.ok(outcomes.length >= (RATE * DURATION_MS) / 1000 / 3, `the load ran (${outcomes.length} requests)`);
    assert.ok(
      outcomes.some((o) => o.phase === "kill -9"),
      "requests ran while an instance was dead",
    );
    assert.deepEqual(
      lost.map((o) => o.title),
      [],
      "no POST answered 2xx is missing from the database",
    );
    assert.ok(
      sheds.length <= outcomes.length * 0.02,
      `admission control shed ${sheds.length} of ${outcomes.length} requests: the machine was too busy for this test to mean anything`,
    );
    assert.deepEqual(
      failedGets.map((o) => `${o.phase}: ${o.status}${o.code ? ` ${o.code}` : ""} started at ${o.startedAt} ms, took ${o.ms.toFixed(0)} ms`),
      [],
      `no GET failed: ${kind} retried them on a live instance`,
    );
    // A draining worker leaves idle kept-alive sockets to the proxy and answers what arrives on them
    // with Connection: close (src/server/drain-policy.ts), so a reload fails no request, POSTs included.
    assert.deepEqual(
      hupFailures.map((o) => `${o.method} ${o.status}${o.method === "POST" && titles.has(o.title as string) ? " (written)" : ""} started at ${o.startedAt} ms`),
      [],
      "the rolling SIGHUP failed no request",
    );
    assert.ok(ids.length >= 2, `found our workers' Redis connections (${ids.length})`);
    assert.deepEqual(
      redis5xx.map((o) => `${o.method} ${o.status}`),
      [],
      "Redis gone: no 5xx, the cache falls back to the database",
    );
    assert.ok(terminated >= 1, "PostgreSQL connections were terminated");
    for (const o of pgFailures)
      assert.ok(
        o.status === 503 && o.retryAfter !== null,
        `PostgreSQL gone: ${o.method} answered ${o.status} (Retry-After ${o.retryAfter}); expected 503 with Retry-After at worst`,
      );
    assert.ok(pgLastFailure - pgKilledAt <= 2000, `recovered within 2 s of pg_terminate_backend (last failure started ${pgLastFailure - pgKilledAt} ms after)`);
    // A POST that failed was answered as an error: an HTTP error status, or a connection error the client saw.
    for (const o of failedPosts) assert.ok(o.status === 0 || o.status >= 500, `failed POST answered ${o.status}`);
  }
}
