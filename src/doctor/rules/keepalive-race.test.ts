import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { holdfastLine, nginxAccessLine, nginxErrorLine } from "../recorded-lines.js";
import { keepaliveRace } from "./keepalive-race.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("instant 502s on POST after 'upstream prematurely closed', no worker death: keep-alive race", () => {
  const access: string[] = [];
  const error: string[] = [];
  for (let i = 0; i < 20; i++) {
    const t = t0 + i * 7000;
    access.push(nginxAccessLine({ t, status: 502, method: "POST", path: "/api/checkout", urt: 0, rt: 0.001 }));
    error.push(nginxErrorLine(t, i % 2 ? "upstream-closed" : "upstream-reset", "POST", "/api/checkout"));
    access.push(nginxAccessLine({ t: t + 10, status: 200 }));
  }
  const [f] = runRule(keepaliveRace, datasetFromLines({ access, error }));
  assert.equal(f?.id, "keepalive-race");
  assert.equal(f?.explains, 20);
  assert.equal(f?.evidence.counts.nonIdempotent, 20);
  assert.match(f?.fix.holdfast ?? "", /keepAlive/);
  assert.match(f?.fix.nginx ?? "", /keepalive_timeout/);
});

test("the same 502s right after a watchdog kill are not a keep-alive race", () => {
  const access = [nginxAccessLine({ t: t0 + 100, status: 502, method: "POST", urt: 0 })];
  const error = [nginxErrorLine(t0 + 100, "upstream-closed", "POST")];
  const app = [holdfastLine(t0, "worker.timeout", { workerPid: 4121, heartbeatAgeMs: 30000 })];
  assert.deepEqual(runRule(keepaliveRace, datasetFromLines({ access, error, app })), []);
});

test("slow 502s (the upstream worked for seconds, then closed) are not the race", () => {
  const access = [nginxAccessLine({ t: t0, status: 502, urt: 4.2, rt: 4.2 })];
  const error = [nginxErrorLine(t0, "upstream-closed")];
  assert.deepEqual(runRule(keepaliveRace, datasetFromLines({ access, error })), []);
});

test("an app slow to close: closes within a second count with the race when most are instant, not otherwise", () => {
  const run = (instant: number, slow: number) => {
    const access: string[] = [];
    const error: string[] = [];
    for (let i = 0; i < instant + slow; i++) {
      const t = t0 + i * 5000;
      const urt = i < instant ? 0.002 : 0.15;
      access.push(nginxAccessLine({ t, status: 502, method: "POST", path: "/api/events", urt, rt: urt + 0.001 }));
      error.push(nginxErrorLine(t, "upstream-closed", "POST", "/api/events"));
    }
    return runRule(keepaliveRace, datasetFromLines({ access, error }))[0]?.explains;
  };
  assert.equal(run(6, 3), 9);
  assert.equal(run(1, 4), 1, "one instant close does not make the slow ones a race");
});

test("POSTs closed 0.2 s in, while the app logs closing idle connections: the same race; no retry advice that cannot apply to POSTs", () => {
  const access: string[] = [];
  const error: string[] = [];
  const app: string[] = [];
  for (let i = 0; i < 4; i++) {
    const t = t0 + i * 9000;
    access.push(nginxAccessLine({ t, status: 502, method: "POST", path: "/api/events", urt: 0.18, rt: 0.18 }));
    error.push(nginxErrorLine(t, "upstream-closed", "POST", "/api/events"));
    // Python's http.server, its handler timeout closing a keep-alive connection it waited on.
    const d = new Date(t - 300);
    app.push(`127.0.0.1 - - [24/Nov/2026 ${d.toISOString().slice(11, 19)}] Request timed out: TimeoutError('timed out')`);
  }
  const [f] = runRule(keepaliveRace, datasetFromLines({ access, error, app }));
  assert.equal(f?.explains, 4, f?.evidence.summary);
  assert.match(f?.evidence.summary ?? "", /logged closing idle connections/);
  assert.doesNotMatch(f?.fix.nginx ?? "", /^proxy_next_upstream /m);
  assert.match(f?.fix.nginx ?? "", /server 127\.0\.0\.1:3000;\n/, "the address the error log names");
});
