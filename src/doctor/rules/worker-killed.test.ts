import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { holdfastLine, nginxAccessLine } from "../recorded-lines.js";
import { workerKilled } from "./worker-killed.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("502s inside a watchdog kill's window are pinned on it, with pid and in-flight path", () => {
  const app = [
    holdfastLine(t0 + 30_000, "worker.timeout", { workerPid: 4121, heartbeatAgeMs: 30_000, inflight: [{ reqId: "a", path: "/slow", ageMs: 30_000 }] }),
    holdfastLine(t0 + 30_010, "worker.exit", { workerPid: 4121, signal: "SIGKILL", code: null, reason: "timeout" }),
  ];
  const access = [
    nginxAccessLine({ t: t0 + 30_020, status: 502, path: "/slow", urt: 30, rt: 30 }),
    nginxAccessLine({ t: t0 + 30_500, status: 502, urt: null }),
    nginxAccessLine({ t: t0 + 90_000, status: 502, urt: 0 }),
  ];
  const [f] = runRule(workerKilled, datasetFromLines({ access, app }));
  assert.equal(f?.id, "worker-killed");
  assert.equal(f?.explains, 2);
  assert.match(f?.evidence.summary ?? "", /2 of 3 502s .* fall in the kill windows .* of 1 worker\.timeout event on pid 4121/);
  assert.match(f?.evidence.summary ?? "", /\/slow/);
  assert.equal(f?.severity, "critical");
});

test("gunicorn WORKER TIMEOUT lines count as watchdog kills", () => {
  const app = ["[2026-11-24 14:02:30 +0000] [4100] [CRITICAL] WORKER TIMEOUT (pid:4121)"];
  const [f] = runRule(workerKilled, datasetFromLines({ app, access: [nginxAccessLine({ t: t0 + 30_100, status: 502, urt: 0 })] }));
  assert.equal(f?.explains, 1);
});

test("a clean recycle exit is not a death", () => {
  const app = [holdfastLine(t0, "worker.exit", { workerPid: 4121, code: 0, signal: null, reason: "recycle" }, "info")];
  assert.deepEqual(runRule(workerKilled, datasetFromLines({ app })), []);
});

test("a slow restart: refusals until the replacement's worker.start are the death's: upstream-down is listed under it", async () => {
  const { upstreamDown } = await import("./upstream-down.js");
  const { nginxErrorLine } = await import("../recorded-lines.js");
  const app = [
    holdfastLine(t0, "worker.timeout", { workerPid: 4121, heartbeatAgeMs: 2000 }),
    holdfastLine(t0 + 9000, "worker.start", { workerPid: 4130 }, "info"),
  ];
  const access = [nginxAccessLine({ t: t0 + 8000, status: 502, urt: null })];
  const error = [nginxErrorLine(t0 + 8000, "connect-refused")];
  const data = datasetFromLines({ access, error, app });
  assert.equal(runRule(workerKilled, data)[0]?.explains, 1);
  assert.equal(runRule(upstreamDown, datasetFromLines({ access, error, app }))[0]?.explains, 1);
  const { analyze } = await import("../analyze.js");
  const findings = analyze(datasetFromLines({ access, error, app }));
  assert.deepEqual(
    findings.slice(0, 2).map((f) => [f.id, f.explainedBy]),
    [
      ["worker-killed", []],
      ["upstream-down", ["worker-killed"]],
    ],
  );
});
