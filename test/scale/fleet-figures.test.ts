// `holdfast monitor --once` and `holdfast doctor --admin … --admin …` over three real instances show
// each instance's counts and their total from one code path (src/monitor/fleet-figures.ts): the
// figures match the requests sent to each, the total is their sum, a dead endpoint is DOWN, and
// the doctor's worker finding names the instance whose worker was killed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import type { FleetFigures } from "../../src/monitor/index.js";
import { CLI, eventually, FIXTURES, type HoldfastProcess, startHoldfast } from "../support/holdfast-process.js";
import { closedPort } from "../support/ports.js";

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

test("monitor --once and doctor --admin show per-instance and total figures of three instances", { timeout: 120_000 }, async (t) => {
  const instances: HoldfastProcess[] = [];
  t.after(() => Promise.all(instances.map((hf) => hf.stop().catch(() => null))));
  for (let i = 0; i < 3; i++) instances.push(await startHoldfast(join(FIXTURES, "basic.mjs"), { workers: 1 }));
  const sent = [5, 10, 20];
  for (const [i, hf] of instances.entries()) for (let n = 0; n < (sent[i] as number); n++) assert.equal((await fetch(`${hf.appUrl}/`)).status, 200);
  // Counts reach /status with the workers' heartbeats (about a second); a worker killed
  // before its next heartbeat takes its last counts with it, so the kill waits for them.
  await eventually(
    async () => {
      const s = await Promise.all(instances.map((hf) => hf.status()));
      return s.every((x, i) => (x.counters.requests as number) >= (sent[i] as number)) || undefined;
    },
    10_000,
    "requests counted",
  );
  // The third instance loses its worker (kill -9): one restart, on that instance only.
  const victim = instances[2] as HoldfastProcess;
  const pid = (await victim.status()).workers[0]?.pid as number;
  process.kill(pid, "SIGKILL");
  await eventually(
    async () => (await victim.status()).workers.some((w) => w.state === "ready" && w.pid !== pid) || undefined,
    20_000,
    "the killed worker replaced",
  );
  const dead = `http://127.0.0.1:${await closedPort()}`;
  const admins = [...instances.map((hf) => hf.adminUrl), dead].flatMap((u) => ["--admin", u]);

  const mon = await cli(["monitor", "--once", "--json", "--interval", "300ms", "--thresholds", "errorRate=off", ...admins]);
  const doc = JSON.parse(mon.stdout) as { figures: FleetFigures };
  const byUrl = (f: FleetFigures, url: string) => f.instances.find((i) => i.instance === url);
  for (const [i, hf] of instances.entries()) {
    const f = byUrl(doc.figures, hf.adminUrl);
    assert.ok(f?.up, `${hf.adminUrl} is UP in the monitor's figures`);
    assert.equal(f.requests, sent[i], `${hf.adminUrl}: the requests sent to it`);
    assert.equal(f.workers, 1);
  }
  assert.equal(byUrl(doc.figures, dead)?.up, false, "the dead endpoint is DOWN");
  assert.equal(doc.figures.total.requests, 35, "the total is the sum");
  assert.equal(byUrl(doc.figures, victim.adminUrl)?.restarts, 1);
  assert.equal(doc.figures.total.restarts, 1);

  const text = await cli(["monitor", "--once", "--interval", "300ms", "--thresholds", "errorRate=off", ...admins]);
  assert.match(text.stdout, /Since each instance started:/);
  assert.match(text.stdout, /TOTAL\s+3\/4 UP\s+3\s+35\s/);
  assert.match(text.stdout, new RegExp(`${dead.replaceAll(".", "\\.")} is DOWN: connection refused`));

  // The doctor, on the same instances, through the same figures.
  const doctor = await cli(["doctor", "--json", ...admins]);
  const report = JSON.parse(doctor.stdout) as { instances: FleetFigures; findings: Array<{ id: string; evidence: { summary: string } }> };
  assert.deepEqual(
    report.instances.instances.map((i) => [i.instance, i.up, i.requests]),
    doc.figures.instances.map((i) => [i.instance, i.up, i.requests]),
    "the doctor counts each instance as the monitor does",
  );
  assert.equal(report.instances.total.requests, 35);
  const killed = report.findings.find((f) => f.id === "worker-killed");
  assert.ok(killed, `a worker-killed finding (findings: ${report.findings.map((f) => f.id).join(", ")})`);
  assert.match(killed.evidence.summary, new RegExp(`${victim.adminUrl.replaceAll(".", "\\.")}: 1\\)`), "it names the instance whose worker was killed");
  const doctorText = await cli(["doctor", ...admins]);
  assert.match(doctorText.stdout, /Instances \(counts since each started\):/);
  assert.match(doctorText.stdout, /TOTAL\s+3\/4 UP\s+3\s+35\s/);
});
