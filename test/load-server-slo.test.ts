/**
 * Server-side SLOs: `holdfast load --admin` samples a real `holdfast serve`'s admin endpoint once a
 * second and judges pool utilisation, lock timeouts, worker restarts, shedding and event-loop lag
 * next to the client-side terms, in one verdict table.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { eventually, FIXTURES, type HoldfastProcess, startHoldfast } from "./support/holdfast-process.js";
import { closedPort } from "./support/ports.js";
import { type LoadRun, runLoadCli } from "./support/load-cli.js";

const children: ChildProcess[] = [];
const servers: HoldfastProcess[] = [];
after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await Promise.all(servers.map((s) => s.stop("SIGKILL")));
});

type Run = LoadRun;

/** Runs `holdfast load ...args`; `onErr` sees stderr as it comes. Bounded: killed after 60 s. */
function cli(args: string[], onErr?: (soFar: string) => void): Promise<Run> {
  return runLoadCli(args, children, onErr);
}

interface Verdict {
  slo: string;
  source: string;
  actual: number | null;
  unit: string;
  ok: boolean;
  detail: string;
}

describe("holdfast load --admin (server-side SLOs)", () => {
  it("--slo seed passes against a healthy instance, with the server's own figures in the verdicts", async () => {
    const hf = await startHoldfast(join(FIXTURES, "db-and-cache.mjs"), { workers: 2 });
    servers.push(hf);
    // Warm both workers (the app opens its database on first use) so a cold start on a busy
    // machine is not judged as the steady state.
    let warm = 0;
    await eventually(
      async () => {
        warm += 8;
        return (await Promise.all(Array.from({ length: 8 }, () => fetch(`${hf.appUrl}/`).then((x) => x.status)))).every((c) => c === 200);
      },
      30_000,
      "a warm instance",
    );
    // Workers report to the supervisor about once a second: wait until the warm-up is in the
    // counters, or it would be counted as part of the run.
    await eventually(async () => Number((await hf.status()).counters.requests) >= warm, 10_000, "warm-up requests counted");
    const report = join(mkdtempSync(join(tmpdir(), "hf-load-srv-")), "report.html");
    const r = await cli([
      `${hf.appUrl}/`,
      "--rate",
      "40",
      "--duration",
      "3",
      "--admin",
      hf.adminUrl,
      "--slo",
      "seed,shed<1%,loop-lag-p99<2s",
      "--json",
      "--report",
      report,
    ]);
    const j = JSON.parse(r.out) as {
      sent: number;
      server: {
        samples: number;
        requests: number;
        pool_utilization_max: number | null;
        worker_restarts: number;
        instances: { samples_ok: number }[];
        timeline: { t_s: number; up: boolean }[];
      };
      slo: Verdict[];
    };
    assert.equal(j.sent, 120);
    // On a starved machine admission control may shed a few requests: that verdict must then agree
    // with the server's own counts, and the exit code with the verdicts.
    const shed = j.slo[5] as Verdict;
    assert.equal(shed.actual, Math.round((j.server.shed / j.server.requests) * 100 * 10000) / 10000);
    assert.equal(r.code, j.slo.every((v) => v.ok) ? 0 : 1, r.err);
    assert.ok((j.server.instances[0]?.samples_ok ?? 0) >= 3, `samples ${JSON.stringify(j.server.instances)}`);
    assert.ok(j.server.timeline.length >= 3 && j.server.timeline.every((p) => p.up));
    // The server counted the requests this generator sent (every one reaches the app).
    assert.ok(j.server.requests >= 110 && j.server.requests <= 125, `server counted ${j.server.requests} of ${j.sent}`);
    assert.ok(j.server.pool_utilization_max !== null, "the app uses its database pool");
    assert.deepEqual(
      j.slo.map((v) => [v.slo, v.source, v.unit, v.ok]),
      [
        ["502<1%", "client", "%", true],
        ["p99<5s", "client", "ms", true],
        ["pool.utilization<80%", "server", "%", true],
        ["lock-timeouts==0", "server", "count", true],
        ["worker.restarts==0", "server", "count", true],
        ["shed<1%", "server", "%", (shed.actual ?? 100) < 1],
        ["loop-lag-p99<2s", "server", "ms", true],
      ],
    );
    const keys = JSON.stringify(j.server).match(/"[^"]+":/g) ?? [];
    assert.deepEqual(
      keys.filter((k) => !/^"[a-z0-9]+(_[a-z0-9]+)*":$/.test(k)),
      [],
      "server figures are snake_case",
    );
    // The report carries the server-side series next to the client's.
    const html = readFileSync(report, "utf8");
    rmSync(dirname(report), { recursive: true, force: true });
    assert.equal((html.match(/<svg /g) ?? []).length, 8);
    for (const title of ["Pool utilisation, busiest worker", "Requests served", "Shed by admission control", "Event-loop lag, worst worker"])
      assert.ok(html.includes(title), title);
    const pool = j.slo[2] as Verdict;
    assert.ok(pool.actual !== null && pool.actual >= 0 && pool.actual <= 100, `pool utilisation in percent: ${pool.actual}`);
  });

  it("a worker crash during the run fails worker.restarts==0 (exit 1); client and server rows in one table", async () => {
    const hf = await startHoldfast(join(FIXTURES, "basic.mjs"), { workers: 2 });
    servers.push(hf);
    let crashed = false;
    const r = await cli([`${hf.appUrl}/`, "--rate", "30", "--duration", "4", "--admin", hf.adminUrl, "--slo", "p99<5s,worker.restarts==0"], (err) => {
      // Once the run is under way, crash one worker (the app throws outside any request).
      if (!crashed && /\d\/4 s: sent/.test(err)) {
        crashed = true;
        fetch(`${hf.appUrl}/crash?ms=50`).catch(() => {});
      }
    });
    assert.ok(crashed, "the run printed progress");
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /SLO pass {2}p99<5s +client +actual/);
    assert.match(
      r.out,
      /SLO FAIL {2}worker\.restarts==0 +server +actual [1-9]\d* +limit == 0 +worker restarts during the run \(watchdog kills: 0, crashes: [1-9]/,
    );
    assert.match(r.out, /server \(1 instance via --admin, \d+ samples\):/);
  });

  it("refuses server-side terms without --admin, and an --admin that does not answer, before sending anything", async () => {
    const noAdmin = await cli(["http://127.0.0.1:9/", "--slo", "worker.restarts==0"]);
    assert.equal(noAdmin.code, 2);
    assert.match(noAdmin.err, /is judged from the server's admin endpoint: add --admin/);
    const port = await closedPort();
    const down = await cli(["http://127.0.0.1:9/", "--admin", `http://127.0.0.1:${port}`, "--slo", "seed"]);
    assert.equal(down.code, 2);
    assert.match(down.err, /cannot read the admin endpoint before the run[\s\S]*connection refused/);
  });
});
