/**
 * bench:overload — the product's headline. The demo service (examples/notes: a notes JSON API on
 * SQLite, 100k rows, 90 % reads / 10 % writes, half of the requests a title search that scans the
 * table) behind real nginx (proxy_read_timeout 5 s, upstream keep-alive on), offered open-loop
 * load at 0.5×, 0.8×, 1×, 2× and 4× measured capacity, two stacks in the same run:
 *   naive    — the same handlers on a plain node:cluster server, better-sqlite3 on the main thread,
 *              Node's default timeouts, no admission control;
 *   holdfast — `holdfast serve examples/notes/app.js`, timeout budget agreeing with the proxy
 *              (deadline 4 s < proxy_read_timeout 5 s), adaptive admission control.
 * Each stage gets a fresh copy of the seeded database, a fresh stack and a fresh nginx, so a
 * backlog left by one load cannot leak into the next.
 *
 * A stage counts only if the generator kept its schedule: its lag p99 ≤ 20 ms and no request
 * waited for a client connection (`valid` in each line). To make 2× and 4× drivable on a 2-core
 * machine the servers are pinned to one core and nginx + this generator to the other (taskset,
 * `--no-pin` to turn off; each stack then runs one worker, one per core it has, `--workers N` to
 * change), the mix is heavy enough that capacity is a few hundred requests per
 * second, and the client has a connection for every request that can be outstanding
 * (rate × (proxy timeout + 2 s)). Prints one JSON line per stack and load, then a summary line
 * with capacities and the targets; writes the chart to docs/img/overload.svg.
 *
 *   npm run bench:overload [-- --duration 30s --multiples 0.5,0.8,1,2,4 --stacks naive,holdfast
 *                              --connections auto --capacity N --no-pin --no-chart --workers auto
 *                              --admission '{…}' --trace DIR --cpu-prof DIR --hog AT:FOR]
 *   npm run bench:overload -- --chart-from bench/overload/run-….jsonl   (redraws the chart from a recorded run)
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { parseDuration } from "../src/config/index.js";
import { openDatabase } from "../src/db/index.js";
import { migrate } from "../examples/notes/app.js";
import { type LoadResult, type RequestSpec, runLoad } from "../src/load/index.js";
import { PROXY, startNginx } from "./overload/nginx.js";
import { processTreeCpuMs } from "./overload/process-cpu.js";
import { markdownTable, perAnswer, type Stack, type StageResult, stackSummary } from "./overload/report.js";
import { type ChartPoint, overloadChart } from "./overload/svg-chart.js";
import { freePort, ratio } from "./support.js";

const ROOT = new URL("../", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "30s" },
    multiples: { type: "string", default: "0.5,0.8,1,2,4" },
    stacks: { type: "string", default: "naive,holdfast" },
    /** "auto": rate × (proxy read timeout + 2 s), so the client is never the bottleneck. */
    connections: { type: "string", default: "auto" },
    /** Pin the servers to CPU 1 and nginx + the generator to CPU 0 (needs taskset and 2 CPUs). */
    pin: { type: "boolean", default: true },
    "no-pin": { type: "boolean", default: false },
    capacity: { type: "string" },
    rows: { type: "string", default: "100000" },
    "no-chart": { type: "boolean", default: false },
    /** Redraw docs/img/overload.svg from a recorded run's JSON lines and stop (no load is run). */
    "chart-from": { type: "string" },
    /** Directory for holdfast's admission traces (HOLDFAST_ADMISSION_TRACE), one sub-directory per stage. */
    trace: { type: "string" },
    /** Directory for V8 CPU profiles of holdfast's processes and threads (node --cpu-prof), one sub-directory per stage. */
    "cpu-prof": { type: "string" },
    /**
     * A slow spell made on purpose: "AT:FOR" (e.g. "10s:3s") runs a busy loop pinned to the servers'
     * CPU from AT after each stage's measured load starts, for FOR. Off by default.
     */
    hog: { type: "string" },
    /** JSON merged into holdfast's admission config, e.g. '{"mode":"fixed","limit":64}'. */
    admission: { type: "string", default: "{}" },
    /** Workers of each stack: "auto" = one per CPU the servers run on (1 when pinned), or a number. */
    workers: { type: "string", default: "auto" },
  },
});
const DURATION_MS = parseDuration(values.duration as string) ?? 30_000;
const MULTIPLES = (values.multiples as string).split(",").map(Number);
const STACKS = (values.stacks as string).split(",") as Stack[];
const CONNECTIONS = values.connections === "auto" ? 0 : Number(values.connections);
/** A stage counts only when the generator kept its schedule this well. */
const VALID_LAG_P99_MS = 20;
const ROWS = Number(values.rows);
const HOG = parseHog(values.hog as string | undefined);

/** --hog AT:FOR as milliseconds; a clear error for anything else. */
function parseHog(spec: string | undefined): { atMs: number; forMs: number } | undefined {
  if (spec === undefined) return undefined;
  const [at, dur] = spec.split(":");
  const atMs = at === undefined ? undefined : parseDuration(at);
  const forMs = dur === undefined ? undefined : parseDuration(dur);
  if (atMs === undefined || forMs === undefined || forMs <= 0) {
    process.stderr.write(
      `bench:overload: --hog ${spec}: expected AT:FOR with two durations, e.g. --hog 10s:3s (a busy loop on the servers' CPU from 10 s into each stage, for 3 s)\n`,
    );
    process.exit(2);
  }
  return { atMs, forMs };
}

/**
 * Runs a busy loop on the servers' CPU for `forMs` after `atMs`: a slow spell of the machine, the same
 * for every stage and stack, where a shared VM gives one at random. Resolves when it has ended.
 */
function hogServerCpu(atMs: number, forMs: number): { done: Promise<void>; cancel: () => void } {
  let child: ChildProcess | undefined;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const timer = setTimeout(() => {
    const [cmd, args] = pinned(SERVER_CPU, process.execPath, ["-e", `const end = Date.now() + ${forMs}; while (Date.now() < end) {}`]);
    child = spawn(cmd, args, { stdio: "ignore" });
    child.once("exit", () => resolveDone());
    child.once("error", () => resolveDone());
  }, atMs);
  return {
    done,
    cancel: () => {
      clearTimeout(timer);
      child?.kill("SIGKILL");
      if (!child) resolveDone();
    },
  };
}

const startFailures: Partial<Record<Stack, number>> = {};
/** The run's temp directory (template database, one directory per stage), made when a run starts. */
let work = "";
const log = (m: string) => process.stderr.write(`[bench:overload] ${m}\n`);

/**
 * The notes table as examples/notes/app.js creates it (its own `migrate`, so the schema has one
 * source), filled with `ROWS` rows by better-sqlite3 directly (a bulk insert, not a benchmark).
 */
async function seedTemplate(file: string): Promise<void> {
  const holdfastDb = await openDatabase(`sqlite:${file}`);
  try {
    await migrate(holdfastDb);
  } finally {
    await holdfastDb.close();
  }
  const db = new Database(file);
  const now = new Date().toISOString();
  const ins = db.prepare("INSERT INTO notes (title, body, done, created_at, updated_at) VALUES (?, ?, ?, ?, ?)");
  db.transaction(() => {
    for (let i = 0; i < ROWS; i++) ins.run(`note ${i}`, `body of note ${i}: ${"lorem ipsum ".repeat(8)}`, i % 3 === 0 ? 1 : 0, now, now);
  })();
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

/**
 * 90 % reads, 10 % writes: 40 % GET /api/notes/:id (uniform over the table), 50 % GET
 * /api/notes?q=… (a title search that matches nothing and so scans the whole table, ~5.5 ms at 100k rows in
 * SQLite), 10 % POST /api/notes. The searches make capacity a few hundred requests per second per
 * core, a load the generator can offer at 4× on the other core. Deterministic for a given index.
 */
function mix(): (i: number) => RequestSpec {
  const post: RequestSpec = {
    method: "POST",
    path: "/api/notes",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ title: "load", body: "written by bench:overload" }),
  };
  return (i) => {
    // A cheap integer hash so ids and the read/write pattern do not correlate with the schedule.
    let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    const kind = h % 10;
    if (kind === 0) return post;
    if (kind <= 5) return { method: "GET", path: `/api/notes?q=${(h >>> 4) % 1000}x&limit=20` };
    return { method: "GET", path: `/api/notes/${1 + ((h >>> 4) % ROWS)}` };
  };
}

/** CPU sets: servers on one core, nginx and the generator on the other (see the file comment). */
const PIN = values.pin && !values["no-pin"] && availableParallelism() >= 2 && hasTaskset();
const SERVER_CPU = "1";
const CLIENT_CPU = "0";

/**
 * Workers of each stack: one per CPU the servers may use, as holdfast's `workers: "auto"` and the
 * naive server's one-per-core convention give, so 1 when pinned. Two workers on the one pinned core
 * cost holdfast a quarter more CPU a request (two event loops and two SQLite reader threads with
 * their own page caches taking turns on one core): 0.8x at 128/s shed 211 and 15 requests with two
 * against 0 and 0 with one, and 4x served 138-142 against 183-196 2xx/s (20 s spot runs, 2026-12-02
 * 00:13 UTC, docs/benchmarks.md); the naive stack served the same with either. `--workers 2` runs the
 * earlier setup.
 */
const WORKERS = resolveWorkers(values.workers as string);

function resolveWorkers(v: string): number {
  if (v === "auto") return PIN ? 1 : availableParallelism();
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--workers must be "auto" or a whole number of workers (1 or more), not "${v}"`);
  return n;
}

function hasTaskset(): boolean {
  return spawnSync("taskset", ["-V"], { stdio: "ignore" }).status === 0;
}

/** `cmd args` wrapped in taskset when pinning. */
function pinned(cpu: string, cmd: string, args: string[]): [string, string[]] {
  return PIN ? ["taskset", ["-c", cpu, cmd, ...args]] : [cmd, args];
}

interface Running {
  stop(): Promise<void>;
  port: number;
  /** CPU ms the stack's processes (all workers and threads) have used so far. */
  cpuMs(): number;
  /** holdfast only: admission shed counts by reason and limits, summed over workers. */
  admission?: () => Promise<{ shed: Record<string, number>; limits: number[] } | undefined>;
}

async function waitFor(url: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status < 500) return;
    } catch {}
    if (Date.now() > until) throw new Error(`nothing answered ${url} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    child.kill(signal);
  });
}

async function startStack(stack: Stack, dir: string, dbFile: string, label: string): Promise<Running> {
  const port = await freePort();
  let child: ChildProcess;
  let adminPort: number | undefined;
  if (stack === "naive") {
    const [cmd, args] = pinned(SERVER_CPU, process.execPath, [join(ROOT, "bench/overload/naive-server.mjs"), String(port), dbFile, String(WORKERS)]);
    child = spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
  } else {
    const cfg = join(dir, "holdfast.config.json");
    writeFileSync(
      cfg,
      JSON.stringify({
        workers: WORKERS,
        // The timeout budget agrees with the proxy: a request's deadline (4 s) ends before
        // nginx's proxy_read_timeout (5 s), so holdfast answers before nginx gives up, and
        // keep-alive outlives nginx's upstream keepalive_timeout (60 s).
        timeouts: { deadline: `${PROXY.readTimeoutS - 1}s`, keepAlive: "65s", headers: "66s", heartbeat: `${PROXY.readTimeoutS - 1}s` },
        // Waits inside a request stay below its deadline, as `holdfast config` advises.
        db: { sqlite: { busyTimeout: "1s" }, pool: { acquireTimeout: "1s" } },
        proxy: { readTimeout: `${PROXY.readTimeoutS}s`, idleTimeout: `${PROXY.keepaliveTimeoutS}s` },
        admission: { mode: "adaptive", ...(JSON.parse(values.admission as string) as Record<string, unknown>) },
        log: { level: "warn", file: join(dir, "holdfast.log") },
      }),
    );
    adminPort = await freePort();
    const [cmd, args] = pinned(SERVER_CPU, process.execPath, [
      // Workers inherit the supervisor's flags, so every process of the stack writes a V8 profile per thread on exit.
      ...(values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${join(values["cpu-prof"] as string, label)}`] : []),
      join(ROOT, "dist/cli/main.js"),
      "serve",
      join(ROOT, "examples/notes/app.js"),
      "--config",
      cfg,
      "--port",
      String(port),
      "--admin-port",
      String(adminPort),
    ]);
    child = spawn(cmd, args, {
      cwd: dir,
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        ...process.env,
        HOLDFAST_DB_URL: `sqlite:${dbFile}`,
        HOLDFAST_LOG_PRETTY: "never",
        ...(values.trace ? { HOLDFAST_ADMISSION_TRACE: join(values.trace as string, label) } : {}),
      },
    });
  }
  try {
    await waitFor(`http://127.0.0.1:${port}/api/notes/1`);
  } catch (err) {
    await stopChild(child, "SIGKILL");
    throw err;
  }
  const pid = child.pid ?? 0;
  const running: Running = { port, stop: () => stopChild(child), cpuMs: () => processTreeCpuMs(pid) };
  if (adminPort) {
    running.admission = async () => {
      try {
        const s = (await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as {
          workers: { admission?: { shed: Record<string, number>; limit: number } }[];
        };
        const shed: Record<string, number> = {};
        for (const w of s.workers) for (const [k, v] of Object.entries(w.admission?.shed ?? {})) shed[k] = (shed[k] ?? 0) + v;
        return { shed, limits: s.workers.map((w) => w.admission?.limit ?? 0) };
      } catch {
        return undefined;
      }
    };
  }
  return running;
}

/** One fresh stack + nginx; `body` runs against the nginx URL. */
async function withStage<T>(
  stack: Stack,
  label: string,
  body: (url: string, cpuMs: () => number) => Promise<T>,
): Promise<{ out: T; nginxErrors: string; admission?: { shed: Record<string, number>; limits: number[] } }> {
  const dir = mkdtempSync(join(work, `${stack}-`));
  const dbFile = join(dir, "app.db");
  copyFileSync(join(work, "template.db"), dbFile);
  let app: Running | undefined;
  for (let attempt = 1; !app; attempt++) {
    try {
      app = await startStack(stack, dir, dbFile, label);
    } catch (err) {
      // Recorded, not hidden: a stack that fails to start is a finding of its own.
      log(`${stack} did not start (attempt ${attempt}): ${(err as Error).message}`);
      startFailures[stack] = (startFailures[stack] ?? 0) + 1;
      if (attempt >= 3) throw err;
      copyFileSync(join(work, "template.db"), dbFile);
    }
  }
  const listen = await freePort();
  const nginx = await startNginx(join(dir, "nginx"), listen, app.port, PIN ? CLIENT_CPU : undefined);
  try {
    const out = await body(`http://127.0.0.1:${listen}`, app.cpuMs);
    // Worker stats reach /status on the heartbeat; give the last one a moment.
    if (app.admission) await new Promise((r) => setTimeout(r, 1500));
    return { out, nginxErrors: nginx.errorLog(), admission: await app.admission?.() };
  } finally {
    await nginx.stop();
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Capacity: the best closed-loop goodput through nginx at 16 and at 64 clients, after a warm-up.
 * Two concurrencies because the best one differs by stack: 16 saturates the one server core for
 * both, while 64 builds a standing queue that an admission-controlled stack refuses (and that the
 * refused clients, retrying at once, turn into 503 traffic no real client would send).
 */
async function measureCapacity(stack: Stack): Promise<number> {
  const { out, admission } = await withStage(stack, "capacity", async (url, cpuMs) => {
    await runLoad({ url, mode: "closed", connections: 16, durationMs: 3000, request: mix() });
    const runs: { r: LoadResult; cpuMsPer2xx: number }[] = [];
    for (const connections of [16, 64]) {
      const c0 = cpuMs();
      const r = await runLoad({ url, mode: "closed", connections, durationMs: 6000, request: mix() });
      runs.push({ r, cpuMsPer2xx: perAnswer(cpuMs() - c0, r.status["200"] ?? 0, r.status["201"] ?? 0) });
    }
    return runs;
  });
  const best = out.map((x) => x.r).reduce((a, r) => (r.goodput_rps > a.goodput_rps ? r : a));
  for (const { r, cpuMsPer2xx } of out)
    log(
      `${stack} closed loop, ${r.connections} clients: ${r.goodput_rps} 2xx/s, p99 ${r.p99_ms} ms, server CPU ${cpuMsPer2xx} ms per 2xx, statuses ${JSON.stringify(r.status)}`,
    );
  log(
    `${stack} capacity: ${best.goodput_rps} 2xx/s (${best.connections} clients)${admission ? `; shed ${JSON.stringify(admission.shed)}, limits ${admission.limits}` : ""}`,
  );
  return best.goodput_rps;
}

/**
 * Client connections for an open-loop stage at `rate`: one per request that can be outstanding.
 * nginx answers every request within its connect plus read timeouts (a 504 at worst), so
 * rate × (both + 2 s) is enough for the client never to be the bottleneck. (The read timeout alone
 * was not: at 4× the naive stack's p99 reached 8.6 s, past the 7 s the pool was sized for, and
 * 2 037 requests waited for a client connection, which made the stage invalid.)
 */
function connectionsFor(rate: number): number {
  return CONNECTIONS > 0 ? CONNECTIONS : Math.max(256, Math.ceil(rate * (PROXY.connectTimeoutS + PROXY.readTimeoutS + 2)));
}

async function runStage(stack: Stack, multiple: number, capacity: number): Promise<StageResult> {
  const rate = Math.round(capacity * multiple);
  let cpu = 0;
  const {
    out: r,
    nginxErrors,
    admission,
  } = await withStage(stack, `${multiple}x`, async (url, cpuMs) => {
    await runLoad({ url, rate: Math.max(50, Math.round(capacity * 0.2)), durationMs: 2000, connections: 256, request: mix() });
    const c0 = cpuMs();
    const hog = HOG ? hogServerCpu(HOG.atMs, HOG.forMs) : undefined;
    const result = await runLoad({
      url,
      rate,
      durationMs: DURATION_MS,
      connections: connectionsFor(rate),
      timeoutMs: 60_000,
      request: mix(),
      onTick: (t) => {
        if (Math.round(t.elapsedMs / 1000) % 10 === 0)
          log(`  ${stack} ${multiple}×: ${(t.elapsedMs / 1000).toFixed(0)} s, sent ${t.sent}, answered ${t.completed}, in flight ${t.inflight}`);
      },
    });
    cpu = cpuMs() - c0;
    hog?.cancel();
    await hog?.done;
    return result;
  });
  const ok = (r.status["200"] ?? 0) + (r.status["201"] ?? 0);
  const answered = Object.values(r.status).reduce((a, n) => a + n, 0);
  return {
    ...summarize(stack, multiple, r, nginxErrors),
    server_cpu_ms_per_2xx: perAnswer(cpu, ok, 0),
    server_cpu_ms_per_answer: perAnswer(cpu, answered, 0),
    ...(admission ? { shed_reasons: admission.shed, final_limits: admission.limits } : {}),
  };
}

function summarize(stack: Stack, multiple: number, r: LoadResult, nginxErrors: string): StageResult {
  return {
    stack,
    multiple,
    offered_rps: r.offered_rps,
    status: r.status,
    errors: r.errors,
    goodput_rps: r.goodput_rps,
    p50_ms: r.p50_ms,
    p99_ms: r.p99_ms,
    sent: r.sent,
    duration_s: r.duration_s,
    generator_lag_p99_ms: r.schedule_lag_ms.p99,
    generator_lag_max_ms: r.schedule_lag_ms.max,
    client_queued: r.client_queued,
    latency_503_p99_ms: r.latency_ms.by_status["503"]?.p99 ?? null,
    valid: r.schedule_lag_ms.p99 <= VALID_LAG_P99_MS && r.client_queued === 0,
    connections: r.connections,
    nginx_upstream_timeouts: (nginxErrors.match(/upstream timed out/g) ?? []).length,
    nginx_upstream_errors: (nginxErrors.match(/\[error\]/g) ?? []).length,
    load_avg_1m: Math.round(loadavg()[0] * 100) / 100,
    ...(HOG ? { hog: { at_s: HOG.atMs / 1000, for_s: HOG.forMs / 1000 } } : {}),
  };
}

async function main(): Promise<void> {
  work = mkdtempSync(join(tmpdir(), "hf-bench-overload-"));
  // The generator (this process) and, through inheritance, nginx run on CLIENT_CPU.
  if (PIN) spawnSync("taskset", ["-a", "-cp", CLIENT_CPU, String(process.pid)], { stdio: "ignore" });
  log(
    PIN ? `pinned: servers on CPU ${SERVER_CPU}, nginx and the generator on CPU ${CLIENT_CPU}` : "not pinned: servers, nginx and the generator share every CPU",
  );
  log(`${WORKERS} worker${WORKERS === 1 ? "" : "s"} per stack; work dir ${work}; seeding ${ROWS} rows`);
  await seedTemplate(join(work, "template.db"));
  const capacities: Partial<Record<Stack, number>> = {};
  if (values.capacity) {
    for (const s of STACKS) capacities[s] = Number(values.capacity);
  } else {
    for (const s of STACKS) capacities[s] = await measureCapacity(s);
  }
  // One base for both stacks, so they are offered the same rates: the naive stack's capacity
  // (the issue's reference point), or the only stack measured.
  const base = capacities.naive ?? capacities.holdfast ?? 0;
  log(`capacity base ${base} req/s; multiples ${MULTIPLES.join(", ")}; ${DURATION_MS / 1000} s each`);
  const results: StageResult[] = [];
  for (const m of MULTIPLES) {
    for (const s of STACKS) {
      const r = await runStage(s, m, base);
      const own = values.capacity ? undefined : capacities[s];
      if (own) r.offered_vs_own_capacity = Math.round((r.offered_rps / own) * 100) / 100;
      results.push(r);
      process.stdout.write(`${JSON.stringify(r)}\n`);
    }
  }
  const summary: Record<string, unknown> = {
    start_failures: startFailures,
    capacity: capacities,
    capacity_base_rps: base,
    duration_s: DURATION_MS / 1000,
    pinned: PIN,
    workers: WORKERS,
    node: process.version,
    all_valid: results.every((r) => r.valid),
  };
  for (const s of STACKS) {
    summary[s] = stackSummary(results.filter((r) => r.stack === s));
  }
  if (capacities.naive && capacities.holdfast) summary.capacity_holdfast_vs_naive = ratio(capacities.holdfast, capacities.naive);
  process.stdout.write(`${JSON.stringify({ summary })}\n`);
  process.stderr.write(`\n${markdownTable(results)}\n`);
  if (!values["no-chart"]) writeChart(results, DURATION_MS / 1000);
  rmSync(work, { recursive: true, force: true });
}

/** docs/img/overload.svg from a run's stages (valid ones only: an invalid stage proves nothing). */
function writeChart(results: StageResult[], durationS: number): void {
  const points: ChartPoint[] = results
    .filter((r) => r.valid)
    .map((r) => ({ stack: r.stack, multiple: r.multiple, offered_rps: r.offered_rps, goodput_rps: r.goodput_rps, p99_ms: r.p99_ms }));
  mkdirSync(join(ROOT, "docs/img"), { recursive: true });
  writeFileSync(join(ROOT, "docs/img/overload.svg"), overloadChart(points, `bench:overload, ${durationS} s per load, 2 cores, nginx 1.22 in front`));
  log("chart written to docs/img/overload.svg");
}

/** --chart-from: the stage lines of a recorded run (its summary line gives the stage length). */
function chartFromRecording(file: string): void {
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l, i) => {
      try {
        return JSON.parse(l) as StageResult | { summary: { duration_s: number } };
      } catch {
        throw new Error(`${file} line ${i + 1} is not JSON: --chart-from takes the JSON lines a bench:overload run printed`);
      }
    });
  const summary = lines.find((l): l is { summary: { duration_s: number } } => "summary" in l);
  const stages = lines.filter((l): l is StageResult => "stack" in l);
  if (!summary || stages.length === 0) throw new Error(`${file} is not a bench:overload recording: it needs stage lines and a summary line`);
  writeChart(stages, summary.summary.duration_s);
}

(values["chart-from"] ? Promise.resolve().then(() => chartFromRecording(values["chart-from"] as string)) : main()).catch((err) => {
  process.stderr.write(`bench:overload failed: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
