/**
 * bench:dashboard — what open dashboard tabs cost a serving instance. One `holdfast serve`
 * (hello app, 2 workers) under wrk; rounds alternate 0 tabs and N tabs (default 5). A tab is
 * what the admin endpoint sees from a browser: GET /, its four assets and /history, then
 * /events held open and read. The tabs run in this process, not in a browser, so the
 * browser's own drawing does not compete with the server for the same 2 cores (on call, the
 * browser runs on a laptop). Reported: median requests/s with and without tabs; the CPU time
 * per second of the supervisor (it serves the admin endpoint) and of the whole process tree;
 * and the CPU per request, which a busy shared machine disturbs far less than raw throughput.
 * The tabs' cost is the supervisor's extra CPU as a share of what the tree spends serving.
 *
 *   npm run bench:dashboard [-- --duration 10 --rounds 5 --tabs 5 --connections 32]
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort, median } from "./support.js";

const ROOT = new URL("../", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    rounds: { type: "string", default: "5" },
    tabs: { type: "string", default: "5" },
    connections: { type: "string", default: "32" },
  },
});
const DURATION = Number(values.duration);
const ROUNDS = Number(values.rounds);
const TABS = Number(values.tabs);
const CONNECTIONS = Number(values.connections);

function wrk(port: number): number {
  const out = execFileSync("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${DURATION}s`, `http://127.0.0.1:${port}/`], { encoding: "utf8" });
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks; 100 per second on Linux
}

/** One simulated tab: loads the page like a browser, then follows /events until aborted; resolves with the bytes read. */
async function tab(admin: string, signal: AbortSignal): Promise<number> {
  let bytes = 0;
  for (const path of ["/", "/assets/uplot.css", "/assets/dashboard.css", "/assets/uplot.js", "/assets/dashboard.js", "/history"]) {
    bytes += (await (await fetch(`${admin}${path}`, { signal })).arrayBuffer()).byteLength;
  }
  try {
    const r = await fetch(`${admin}/events`, { signal });
    const reader = r.body?.getReader();
    for (;;) {
      const { done, value } = (await reader?.read()) ?? { done: true, value: undefined };
      if (done) break;
      bytes += value?.byteLength ?? 0;
    }
  } catch {
    // aborted at the end of the round
  }
  return bytes;
}

async function main(): Promise<void> {
  if (spawnSync("wrk", ["--version"]).error) throw new Error("wrk is not installed: apt-get install -y wrk");
  const port = await freePort();
  const adminPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "hf-bench-dashboard-"));
  const child: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, "dist/cli/main.js"), "serve", join(ROOT, "bench/apps/hello.mjs"), "--port", String(port), "--admin-port", String(adminPort), "--workers", "2"],
    { stdio: "ignore", cwd: dir, env: { ...process.env, HOLDFAST_LOG_FILE: join(dir, "app.log") } },
  );
  const admin = `http://127.0.0.1:${adminPort}`;
  const until = Date.now() + 20_000;
  let supervisorPid = 0;
  let workerPids: number[] = [];
  while (!supervisorPid) {
    try {
      const s = (await (await fetch(`${admin}/status`)).json()) as { ready: boolean; instance: { pid: number }; workers: { pid: number }[] };
      if (s.ready && s.workers.length === 2) {
        supervisorPid = s.instance.pid;
        workerPids = s.workers.map((w) => w.pid);
      }
    } catch {}
    if (Date.now() > until) throw new Error("holdfast did not become ready in 20 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  const treeCpu = () => cpuSeconds(supervisorPid) + workerPids.reduce((a, p) => a + cpuSeconds(p), 0);
  type Row = { rps: number[]; cpu: number[]; tree: number[]; usPerReq: number[]; bytes: number[] };
  const rows: Record<"none" | "tabs", Row> = {
    none: { rps: [], cpu: [], tree: [], usPerReq: [], bytes: [] },
    tabs: { rps: [], cpu: [], tree: [], usPerReq: [], bytes: [] },
  };
  try {
    wrk(port); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 ? (["tabs", "none"] as const) : (["none", "tabs"] as const)) {
        const ac = new AbortController();
        const tabs = mode === "tabs" ? Array.from({ length: TABS }, () => tab(admin, ac.signal)) : [];
        const cpu0 = cpuSeconds(supervisorPid);
        const tree0 = treeCpu();
        const t0 = Date.now();
        // wrk runs synchronously in a child; the tabs' reads proceed when it returns, so give them a moment first.
        await new Promise((r) => setTimeout(r, 300));
        const rps = await new Promise<number>((resolve, reject) => {
          const w = spawn("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${DURATION}s`, `http://127.0.0.1:${port}/`]);
          let out = "";
          w.stdout.on("data", (d) => (out += d));
          w.once("error", reject);
          w.once("exit", () => resolve(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN)));
        });
        const seconds = (Date.now() - t0) / 1000;
        const cpu = (cpuSeconds(supervisorPid) - cpu0) / seconds;
        const tree = (treeCpu() - tree0) / seconds;
        ac.abort();
        const bytes = (await Promise.all(tabs)).reduce((a, b) => a + b, 0);
        rows[mode].rps.push(rps);
        rows[mode].cpu.push(cpu);
        rows[mode].tree.push(tree);
        rows[mode].usPerReq.push((tree * seconds * 1e6) / (rps * DURATION));
        rows[mode].bytes.push(bytes);
        console.error(
          `round ${round + 1} ${mode.padEnd(5)} ${rps.toFixed(0).padStart(7)} req/s  supervisor CPU ${(cpu * 100).toFixed(2)} %  tree CPU ${(tree * 100).toFixed(0)} %  ${((tree * seconds * 1e6) / (rps * DURATION)).toFixed(1)} µs/request  tab bytes ${bytes}`,
        );
      }
    }
  } finally {
    child.kill("SIGTERM");
    // The log is open in the stopping server; removing it now loses nothing the bench reads.
    rmSync(dir, { recursive: true, force: true });
  }
  const none = median(rows.none.rps);
  const withTabs = median(rows.tabs.rps);
  const paired = rows.tabs.rps.map((r, i) => r / (rows.none.rps[i] as number));
  console.log(
    JSON.stringify({
      bench: "dashboard",
      tabs: TABS,
      rounds: ROUNDS,
      duration_s: DURATION,
      connections: CONNECTIONS,
      rps_no_tabs: Math.round(none),
      rps_with_tabs: Math.round(withTabs),
      throughput_cost_pct: Math.round((1 - withTabs / none) * 10000) / 100,
      paired_ratio_median: Math.round(median(paired) * 10000) / 10000,
      paired_ratios: paired.map((r) => Math.round(r * 10000) / 10000),
      supervisor_cpu_pct_no_tabs: Math.round(median(rows.none.cpu) * 10000) / 100,
      supervisor_cpu_pct_with_tabs: Math.round(median(rows.tabs.cpu) * 10000) / 100,
      tree_cpu_pct_no_tabs: Math.round(median(rows.none.tree) * 1000) / 10,
      cpu_us_per_request_no_tabs: Math.round(median(rows.none.usPerReq) * 10) / 10,
      cpu_us_per_request_with_tabs: Math.round(median(rows.tabs.usPerReq) * 10) / 10,
      // What the tabs add on the server, as a share of what serving costs: the throughput lost at saturation.
      tabs_cpu_cost_pct: Math.round(((median(rows.tabs.cpu) - median(rows.none.cpu)) / median(rows.none.tree)) * 10000) / 100,
      tab_bytes_per_s: Math.round(median(rows.tabs.bytes) / (DURATION + 0.3)),
      target: "tabs_cpu_cost_pct < 1 (throughput_cost_pct is the same question, but at the mercy of a shared machine)",
    }),
  );
}

main().catch((err: unknown) => {
  console.error(`bench:dashboard: ${(err as Error).message}`);
  process.exit(1);
});
