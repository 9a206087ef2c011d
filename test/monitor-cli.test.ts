// holdfast monitor against a real holdfast: --once --json judges live traffic, DOWN instances, usage errors, piped lines.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer as createHttpServer } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import monitorCommand from "../src/cli/commands/monitor.js";
import { runInProcess } from "../src/cli/build-command.js";
import { loadThresholds, watch } from "../src/monitor/index.js";
import { CLI, FIXTURES, type HoldfastProcess, startHoldfast } from "./support/holdfast-process.js";
import { traffic, untilSettled } from "./support/traffic.js";
import { closedPort } from "./support/ports.js";

const APP = join(FIXTURES, "basic.mjs");
// The instance under test guards its admin endpoint with a token, as one bound beyond loopback must.
const TOKEN = "monitor-test-token-0123456789";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `holdfast monitor ...` to completion, or until `stopWhen(stdout)` holds (then SIGINT; at most 10 s). */
function monitor(args: string[], o: { stopWhen?: (stdout: string) => boolean; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, "monitor", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", ...o.env } });
    let stdout = "";
    let stderr = "";
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      child.kill("SIGINT");
    };
    child.stdout.on("data", (d) => {
      stdout += d;
      if (o.stopWhen?.(stdout)) stop();
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const limit = o.stopWhen ? setTimeout(stop, 10_000) : undefined;
    const kill = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("exit", (code) => {
      clearTimeout(limit);
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

const lineCount = (n: number) => (out: string) => out.split("\n").length > n;

interface Snapshot {
  healthy: boolean;
  alerts: Array<{ rule: string; instance: string; state: string; value: number; summary: string }>;
  instances: Array<{
    target: string;
    up: boolean;
    error?: string;
    interval?: { requestsPerS: number; errorRatio: number; p50Ms: number; p99Ms: number; source: string };
    workers: unknown[];
  }>;
}

describe("holdfast monitor CLI", () => {
  let hf: HoldfastProcess;
  before(async () => {
    hf = await startHoldfast(APP, { workers: 2, env: { HOLDFAST_ADMIN_TOKEN: TOKEN } });
  });
  after(async () => {
    await hf?.stop();
  });
  /** `--admin` and `--token` for the instance under test. */
  const authed = () => ["--admin", hf.adminUrl, "--token", TOKEN];

  it("--once exits 0 with healthy traffic and draws the dashboard as text", async () => {
    const run = monitor(["--once", ...authed(), "--interval", "1s", "--thresholds", "minRequests=5"]);
    await traffic(hf.appUrl, ["/", "/slow?ms=20"], untilSettled(run));
    const r = await run;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /INSTANCE\s+STATE\s+REQ\/S/);
    assert.match(r.stdout, new RegExp(`${new URL(hf.adminUrl).host}\\s+UP\\s+\\d`));
    assert.match(r.stdout, /ALERTS\s+none/);
  });

  it("--once --json fires error-rate (exit 1) while half the requests answer 500", async () => {
    const run = monitor(["--once", "--json", ...authed(), "--interval", "1500ms", "--thresholds", "minRequests=5"]);
    const sent = await traffic(hf.appUrl, ["/", "/throw"], untilSettled(run));
    const r = await run;
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as Snapshot;
    assert.equal(doc.healthy, false);
    const alert = doc.alerts.find((a) => a.rule === "error-rate");
    assert.ok(alert, `error-rate fires; alerts: ${JSON.stringify(doc.alerts)}`);
    assert.equal(alert.instance, hf.adminUrl);
    assert.ok(alert.value > 0.3 && alert.value < 0.7, `5xx share ${alert.value} of ~0.5 (sent ${sent})`);
    const i = doc.instances[0];
    assert.equal(i.up, true);
    assert.equal(i.workers.length, 2);
    assert.equal(i.interval?.source, "metrics");
    assert.ok((i.interval?.requestsPerS ?? 0) > 5);
    assert.ok((i.interval?.p99Ms ?? -1) >= 0 && (i.interval?.p99Ms ?? 1e9) < 1000, "p99 from the histogram deltas");
  });

  it("--once fires p99-latency from the histogram when requests are slower than the threshold", async () => {
    const run = monitor(["--once", "--json", ...authed(), "--interval", "1500ms", "--thresholds", "p99=100ms,errorRate=off,minRequests=1"]);
    await traffic(hf.appUrl, ["/slow?ms=300"], untilSettled(run));
    const r = await run;
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout) as Snapshot;
    const a = doc.alerts.find((x) => x.rule === "p99-latency");
    assert.ok(a, JSON.stringify(doc.alerts));
    // 300 ms requests fall in the (250 ms, 500 ms] bucket; the interpolated p99 lies inside it.
    assert.ok(a.value > 250 && a.value <= 500, `p99 ${a.value} ms`);
  });

  it("shows an unreachable admin endpoint as DOWN and fires instance-down, next to a live one", async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const posts: Array<{ status: string; alert: { rule: string; instance: string } }> = [];
    const receiver = createHttpServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        posts.push(JSON.parse(body));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const hook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/`;
    // errorRate=off: the live instance may still be reporting the previous test's 500s (workers report with their heartbeat).
    const r = await monitor([
      "--once",
      "--json",
      ...authed(),
      "--admin",
      dead,
      "--interval",
      "300ms",
      "--thresholds",
      "errorRate=off",
      "--alert-webhook",
      hook,
    ]);
    receiver.close();
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as Snapshot & { webhooks: { delivered: number } };
    assert.deepEqual(
      posts.map((p) => `${p.status} ${p.alert.rule} ${p.alert.instance}`),
      [`firing instance-down ${dead}`],
      "--once POSTs what fires",
    );
    assert.equal(doc.webhooks.delivered, 1);
    const d = doc.instances.find((x) => x.target === dead);
    assert.equal(d?.up, false);
    assert.match(d?.error ?? "", /connection refused/);
    assert.deepEqual(
      doc.alerts.map((a) => `${a.rule} ${a.instance}`),
      [`instance-down ${dead}`],
    );
    assert.equal(doc.instances.find((x) => x.target === hf.adminUrl)?.up, true);
    const text = await monitor(["--once", "--admin", dead]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /DOWN/);
  });

  it("exits 2 with a clear message on bad usage", async () => {
    const a = await monitor(["--once", "--thresholds", "errRate=1%"]);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /unknown key "errRate"/);
    // The rest in-process (same parser, same USAGE error the CLI turns into exit 2), to keep the file fast.
    const usage = (argv: string[], re: RegExp) =>
      assert.rejects(runInProcess("monitor", monitorCommand, argv), (e: Error & { code?: string }) => e.code === "USAGE" && re.test(e.message));
    await usage(["--once", "--interval", "soon"], /--interval must be a duration/);
    await usage(["--once", "--admin", "ftp://x"], /only http:\/\/ and https:\/\//);
    await usage(["--bogus"], /bogus/);
    await usage(["--once", "--alert-webhook", "not a url"], /not an http\(s\) URL/);
    await usage(["http://127.0.0.1:9464"], /Admin endpoints go in --admin/);
  });

  it("without the admin token the instance shows DOWN with what to pass; HOLDFAST_ADMIN_TOKEN and http://:TOKEN@host work like --token", async () => {
    const r = await monitor(["--once", "--json", "--admin", hf.adminUrl, "--interval", "200ms"]);
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.stdout) as Snapshot;
    assert.match(doc.instances[0].error ?? "", /wants a token: pass --token/);
    const ok = await monitor(["--once", "--json", "--admin", hf.adminUrl, "--interval", "200ms", "--thresholds", "errorRate=off"], {
      env: { HOLDFAST_ADMIN_TOKEN: TOKEN },
    });
    assert.equal(ok.code, 0, ok.stdout);
    const inUrl = await monitor([
      "--once",
      "--json",
      "--admin",
      hf.adminUrl.replace("http://", `http://:${TOKEN}@`),
      "--interval",
      "200ms",
      "--thresholds",
      "errorRate=off",
    ]);
    assert.equal(inUrl.code, 0, inUrl.stdout);
    assert.equal((JSON.parse(inUrl.stdout) as Snapshot).instances[0].target, hf.adminUrl);
    assert.ok(!inUrl.stdout.includes(TOKEN), "a token given in the URL never shows in the output");
  });

  it("piped, prints one line per interval and stops cleanly on SIGINT", async () => {
    const r = await monitor([...authed(), "--interval", "300ms"], { stopWhen: lineCount(3) });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.ok(lines.length >= 3, r.stdout);
    assert.ok(!r.stdout.includes("\u001b["), "no ANSI codes into a pipe");
    assert.match(lines.at(-1) ?? "", /Z 127\.0\.0\.1:\d+ UP req\/s=\S+ 5xx=\S+ .* workers=2\/2 /);
  });
  it("--json without --once prints one JSON object per interval", async () => {
    const r = await monitor(["--json", ...authed(), "--interval", "300ms"], { stopWhen: lineCount(2) });
    assert.equal(r.code, 0, r.stderr);
    const objs = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { instances: Array<{ up: boolean }>; alerts: unknown[]; transitions: unknown[] });
    assert.ok(objs.length >= 2);
    assert.equal(objs.at(-1)?.instances[0].up, true);
    assert.ok(Array.isArray(objs.at(-1)?.transitions));
  });

  it("on a terminal, redraws the frame in place on the alternate screen and leaves the last frame behind", async () => {
    let written = "";
    const ac = new AbortController();
    const limit = setTimeout(() => ac.abort(), 10_000);
    const write = (s: string) => {
      written += s;
      if (written.split("\u001b[H").length > 3) ac.abort();
    };
    await watch(
      { targets: [hf.adminUrl], token: TOKEN, intervalMs: 300, thresholds: loadThresholds([]), webhooks: [] },
      { format: "screen", color: true, width: () => 120, write, warn: write },
      ac.signal,
    );
    clearTimeout(limit);
    assert.ok(written.startsWith("\u001b[?1049h"), "enters the alternate screen");
    assert.ok(written.split("\u001b[H").length - 1 >= 3, "redraws from the top-left each interval");
    const leave = written.lastIndexOf("\u001b[?1049l");
    assert.ok(leave > 0, "leaves the alternate screen");
    const last = written.slice(leave);
    assert.match(last, /INSTANCE/);
    assert.match(last, new RegExp(`${new URL(hf.adminUrl).host}\\s+UP`));
    assert.ok(
      last.split("\n").every((l) => l.replace(new RegExp(`${"\u001b"}\\[[0-9;?]*[a-zA-Z]`, "g"), "").length <= 120),
      "cut to the terminal width",
    );
  });

  it("fires unstable-workers (once, not twice) when a worker crashes and is replaced, and prints the supervisor's events (last: it disturbs the instance)", async () => {
    let crashed = false;
    const r = await monitor(["--json", ...authed(), "--interval", "300ms", "--thresholds", "errorRate=off,for=0s,window=10s"], {
      stopWhen: (out) => {
        // The first line means the first scrape is in: a crash from now on falls inside the window.
        if (!crashed && out.includes("\n")) {
          crashed = true;
          void fetch(`${hf.appUrl}/crash?ms=50`)
            .then((res) => res.arrayBuffer())
            .catch(() => undefined);
        }
        return /"status":"firing","alert":\{"rule":"unstable-workers"/.test(out);
      },
    });
    assert.equal(r.code, 0, r.stderr);
    const ticks = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { alerts: Array<{ rule: string; value: number; summary: string }>; instances: Array<{ events: Array<{ event: string }> }> });
    const last = ticks.at(-1)!;
    const a = last.alerts.find((x) => x.rule === "unstable-workers");
    assert.ok(a, JSON.stringify(last.alerts));
    assert.equal(a.value, 1, "one crash and its restart count once");
    assert.match(a.summary, /1 crashes/);
    const events = last.instances[0].events.map((e) => e.event);
    assert.ok(events.includes("worker.fatal"), `the supervisor's events are passed on: ${events}`);
  });
});
