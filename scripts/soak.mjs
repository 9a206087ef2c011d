#!/usr/bin/env node
// Soak test: the notes demo under `holdfast serve` (built dist/) on a fresh SQLite file, driven at
// about 60 % of the capacity measured first, for --minutes N (30 by default). Every minute it
// prints RSS and open file descriptors of the supervisor and the workers and the p99 latency;
// at the end a verdict on growth. Loopback only; bounded in time and request count.
//
//   npm run soak -- --minutes 30 [--workers 2] [--share 0.6]
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const ROOT = new URL("../", import.meta.url).pathname;
const { values: args } = parseArgs({
  options: { minutes: { type: "string", default: "30" }, workers: { type: "string", default: "2" }, share: { type: "string", default: "0.6" } },
});
const minutes = Number(args.minutes);
const workers = Number(args.workers);
const share = Number(args.share);
if (!(minutes > 0 && minutes <= 24 * 60) || !(workers >= 1 && workers <= 64) || !(share > 0 && share <= 1)) {
  console.error("soak: --minutes must be 1..1440, --workers 1..64 and --share in (0, 1]; e.g. npm run soak -- --minutes 30");
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "hf-soak-"));
const child = spawn(
  process.execPath,
  [join(ROOT, "dist/cli/main.js"), "serve", join(ROOT, "examples/notes/app.js"), "--port", "0", "--admin-port", "0", "--workers", String(workers)],
  {
    cwd: dir,
    env: {
      ...process.env,
      HOLDFAST_DB_URL: `sqlite:${join(dir, "app.db")}`,
      HOLDFAST_LOG_FILE: join(dir, "app.log"),
      HOLDFAST_LOG_PRETTY: "never",
      HOLDFAST_LOG_REQUESTS: "errors",
    },
    stdio: ["ignore", "pipe", "pipe"],
  },
);
let out = "";
child.stdout.on("data", (d) => {
  out += d;
});
child.stderr.on("data", (d) => {
  out += d;
});
const stop = async () => {
  if (child.exitCode === null) child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 30_000);
  await new Promise((r) => (child.exitCode === null ? child.once("exit", r) : r()));
  clearTimeout(t);
  rmSync(dir, { recursive: true, force: true });
};
process.on("SIGINT", () => void stop().then(() => process.exit(130)));

const started = Date.now();
while (!/admin: +http/.test(out)) {
  if (child.exitCode !== null || Date.now() - started > 30_000) {
    console.error(`soak: holdfast did not start:\n${out}`);
    await stop();
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 100));
}
const port = Number(/app: +http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
const admin = /admin: +(http:\/\/\S+?)\/?\s/.exec(out)?.[1];
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

let seq = 0;
/** One request of the mix (3 reads : 1 write); resolves with [status, ms, error code of a 503]. */
function one() {
  const n = seq++;
  const write = n % 4 === 3;
  const body = write ? JSON.stringify({ title: `soak ${n}` }) : undefined;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        agent,
        method: write ? "POST" : "GET",
        path: write ? "/api/notes" : `/api/notes?limit=10`,
        timeout: 10_000,
        headers: write ? { "content-type": "application/json" } : {},
      },
      (res) => {
        // Only a 503's body is read: its error code tells a shed (OVERLOADED) from a database refusal.
        let text = "";
        if (res.statusCode === 503) res.on("data", (d) => (text += d));
        else res.resume();
        res.on("end", () => resolve([res.statusCode ?? 0, performance.now() - t0, /"code":"([A-Z_]+)"/.exec(text)?.[1]]));
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve([0, performance.now() - t0]));
    req.end(body);
  });
}

const procStat = (pid) => {
  try {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
    return { rss, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return { rss: 0, fds: 0 };
  }
};
// CPU accounting, to tell shedding caused by the machine (other processes taking the cores the
// capacity was measured with) from shedding holdfast causes itself: jiffies of the whole machine
// (/proc/stat) against those of the supervisor, the workers and this generator.
const machineBusy = () => {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  return { busy: f.reduce((a, b) => a + b, 0) - idle - (f[8] ?? 0) - (f[9] ?? 0), total: f.reduce((a, b) => a + b, 0) - (f[8] ?? 0) - (f[9] ?? 0) };
};
const procCpu = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8")
      .replace(/^.*\) /, "")
      .split(" ");
    return Number(f[11]) + Number(f[12]); // utime + stime
  } catch {
    return 0;
  }
};
const sample = async () => {
  const st = await (await fetch(`${admin}/status`, { signal: AbortSignal.timeout(5000) })).json();
  const pids = [child.pid, ...st.workers.map((w) => w.pid)];
  const stats = pids.map(procStat);
  const cpu = new Map([...pids, process.pid].map((pid) => [pid, procCpu(pid)]));
  return {
    rss: stats.reduce((a, s) => a + s.rss, 0),
    fds: stats.reduce((a, s) => a + s.fds, 0),
    restarts: st.workers.reduce((a, w) => a + (w.restarts ?? 0), 0),
    cpu,
    machine: machineBusy(),
  };
};
/** Shares of the machine's CPU time between two samples: all busy, ours (server + generator), the rest. */
const cpuShares = (a, b) => {
  const total = b.machine.total - a.machine.total;
  let ours = 0;
  for (const [pid, t] of b.cpu) if (a.cpu.has(pid)) ours += t - a.cpu.get(pid);
  const busy = b.machine.busy - a.machine.busy;
  return total > 0 ? { busy: busy / total, ours: Math.min(busy, ours) / total, others: Math.max(0, busy - ours) / total } : { busy: 0, ours: 0, others: 0 };
};

// 1. Capacity: 32 closed-loop clients for 10 s.
const capStart = await sample();
const capUntil = Date.now() + 10_000;
let capDone = 0;
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (Date.now() < capUntil) {
      const [status] = await one();
      if (status >= 200 && status < 300) capDone++;
    }
  }),
);
const capacity = capDone / 10;
const rate = Math.max(1, Math.round(capacity * share));
let prev = await sample();
const capCpu = cpuShares(capStart, prev);
console.log(
  `soak: capacity ≈ ${capacity.toFixed(0)} req/s (32 clients, 10 s, 3 reads : 1 write); steady load ${rate} req/s (${Math.round(share * 100)} %) for ${minutes} min, ${workers} workers`,
);
console.log(
  `soak: during the capacity run the machine was ${(capCpu.busy * 100).toFixed(0)} % busy: ${(capCpu.ours * 100).toFixed(0)} % holdfast + generator, ${(capCpu.others * 100).toFixed(0)} % other processes (load average ${loadavg()[0].toFixed(1)})`,
);

// 2. Steady paced open-loop load; one row per minute.
const rows = [];
const pct = (xs, p) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] : 0);
// A row's requests are all sent within its minute; it ends when the last is answered, so under
// overload a row lasts longer than a minute (the "row s" column says how long).
console.log("minute  requests  non-2xx  p50 ms  p99 ms  RSS MB (all processes)  open fds  worker restarts  CPU ours/others %  load  row s");
for (let m = 1; m <= minutes; m++) {
  const t0 = Date.now();
  const lat = [];
  let bad = 0;
  const codes = new Map();
  let sent = 0;
  const pending = new Set();
  while (Date.now() - t0 < 60_000) {
    while (sent < ((Date.now() - t0) / 1000) * rate) {
      sent++;
      const p = one().then(([status, ms, reason]) => {
        pending.delete(p);
        lat.push(ms);
        if (status < 200 || status >= 300) {
          bad++;
          const key = reason ? `${status} ${reason}` : status;
          codes.set(key, (codes.get(key) ?? 0) + 1);
        }
      });
      pending.add(p);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(pending);
  const s = await sample();
  const cpu = cpuShares(prev, s);
  prev = s;
  const row = {
    minute: m,
    requests: lat.length,
    bad,
    codes: [...codes].map(([c, n]) => `${c || "conn"}×${n}`).join(" "),
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    rssMb: s.rss / 1048576,
    fds: s.fds,
    restarts: s.restarts,
    cpu,
  };
  rows.push(row);
  const cpuText = `${(cpu.ours * 100).toFixed(0)}/${(cpu.others * 100).toFixed(0)}`;
  console.log(
    `${String(m).padStart(6)}  ${String(row.requests).padStart(8)}  ${String(bad).padStart(7)}  ${row.p50.toFixed(1).padStart(6)}  ${row.p99.toFixed(1).padStart(6)}  ${row.rssMb.toFixed(1).padStart(22)}  ${String(row.fds).padStart(8)}  ${String(row.restarts).padStart(15)}  ${cpuText.padStart(17)}  ${loadavg()[0].toFixed(1).padStart(4)}  ${String(Math.round((Date.now() - t0) / 1000)).padStart(5)}${row.codes ? `  (${row.codes})` : ""}`,
  );
}

// 3. Verdict: growth from the second minute (after warm-up) to the last.
const base = rows[Math.min(1, rows.length - 1)];
const last = rows[rows.length - 1];
const growth = (a, b) => (a > 0 ? (b - a) / a : 0);
const rssGrowth = growth(base.rssMb, last.rssMb);
const fdGrowth = last.fds - base.fds;
const p99Growth = growth(base.p99, last.p99);
const verdicts = [];
if (rssGrowth > 0.25)
  verdicts.push(
    `RSS grew ${(rssGrowth * 100).toFixed(0)} % (${base.rssMb.toFixed(0)} → ${last.rssMb.toFixed(0)} MB): look for a leak (heap snapshot of a worker)`,
  );
if (fdGrowth > 20) verdicts.push(`open file descriptors grew by ${fdGrowth} (${base.fds} → ${last.fds}): sockets or files are not closed`);
if (p99Growth > 1) verdicts.push(`p99 more than doubled (${base.p99.toFixed(0)} → ${last.p99.toFixed(0)} ms)`);
if (last.restarts > 0) verdicts.push(`${last.restarts} worker restarts during the run`);
const totalBad = rows.reduce((a, r) => a + r.bad, 0);
if (totalBad > 0) {
  // Shedding while other processes held a share of the cores the capacity was measured with is the
  // machine's overload, not holdfast's; say which, with the figures.
  const sent = rows.reduce((a, r) => a + r.requests, 0);
  const shedOthers = rows.filter((r) => r.bad > 0).map((r) => r.cpu.others);
  const meanOthers = shedOthers.reduce((a, b) => a + b, 0) / Math.max(1, shedOthers.length);
  verdicts.push(
    `${totalBad} requests (${((totalBad / sent) * 100).toFixed(1)} %) were not 2xx; in the minutes with failures other processes used ${(meanOthers * 100).toFixed(0)} % of the machine's CPU on average (${(capCpu.others * 100).toFixed(0)} % while capacity was measured)`,
  );
}
if (rows.length < 3) verdicts.push(`only ${rows.length} minute(s): too short to tell slow growth from warm-up; run 30`);
console.log(
  verdicts.length === 0
    ? `soak verdict: stable — RSS ${rssGrowth >= 0 ? "+" : ""}${(rssGrowth * 100).toFixed(1)} %, fds ${fdGrowth >= 0 ? "+" : ""}${fdGrowth}, p99 ${base.p99.toFixed(1)} → ${last.p99.toFixed(1)} ms from minute ${base.minute} to ${last.minute}`
    : `soak verdict: ${verdicts.join("; ")}`,
);
agent.destroy();
await stop();
process.exit(verdicts.some((v) => !v.startsWith("only")) ? 1 : 0);
