/**
 * The drain race behind nginx, on its own: one holdfast instance (two workers) behind the nginx
 * config `holdfast proxy-config nginx` generates, POSTs over nginx's upstream keep-alive pool in
 * bursts of changing depth, and several rolling SIGHUPs. A draining worker that closes an idle
 * kept-alive socket while nginx is sending a POST on it gets that POST answered 502 (nginx never
 * retries a POST it has sent); every POST here must be answered 201. The bursts are what reach the
 * sockets idle for about a second, the ones a worker used to close. Bounded in time and in flight.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CLI, type HoldfastProcess, startHoldfast } from "../support/holdfast-process.js";
import { onFreshPort } from "../support/ports.js";
import { waitUntil } from "../support/paced.js";
import { requireBinary } from "../support/require-service.js";
import { eventually } from "../support/wait.js";
import { startNginx } from "./scenario.js";

// Reads the whole body, then answers 201 after a few ms, so a burst holds many upstream connections at
// once; a millisecond of CPU per request keeps the worker's event loop as busy as a real app's.
const APP = `export default (req, res) => {
  if (req.method !== "POST") return res.end("ok");
  const spin = performance.now() + 1;
  while (performance.now() < spin) {}
  let bytes = 0;
  req.on("data", (c) => { bytes += c.length; });
  req.on("end", () => setTimeout(() => {
    res.statusCode = 201;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ bytes, pid: process.pid }));
  }, Math.random() * 10));
};
`;
const RELOADS = Number(process.env.HOLDFAST_TEST_RELOADS ?? 6);
const BURST = 60; // most concurrent POSTs per burst: deeper than the steady load reaches into nginx's pool
const STEADY = 3; // closed-loop POSTs running all the time
const MAX_MS = 90_000;

test(`${RELOADS} rolling SIGHUPs behind nginx under bursty keep-alive POST load fail no POST`, { timeout: 150_000 }, async (t) => {
  const nginxBin = requireBinary(t, "nginx", ["/usr/sbin/nginx"]);
  if (!nginxBin) return;
  const dir = mkdtempSync(join(tmpdir(), "hf-reload-ka-"));
  let hf: HoldfastProcess | undefined;
  let nginx: ChildProcess | undefined;
  t.after(async () => {
    nginx?.kill("SIGTERM");
    await hf?.stop().catch(() => null);
    if (!process.env.HOLDFAST_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
  });
  hf = await startHoldfast("./post-app.mjs", {
    files: { "post-app.mjs": APP },
    workers: 2,
    // Shedding (a 503 by design) would be counted as a failure here; this test is about the drain.
    env: { HOLDFAST_ADMISSION_MODE: "off", HOLDFAST_LOG_REQUESTS: "false" },
  });
  // holdfast bound a port of its own (port 0); nginx listens on one written into its config, which
  // another test's process may take first.
  const port = new URL(hf.appUrl).port;
  const listen = await onFreshPort(async (p) => {
    const gen = spawnSync(process.execPath, [CLI, "proxy-config", "nginx", "--upstream", `127.0.0.1:${port}`, "--listen", String(p)], {
      cwd: dir,
      encoding: "utf8",
    });
    assert.equal(gen.status, 0, gen.stderr);
    nginx = await startNginx(nginxBin, dir, gen.stdout, p, "/");
    return p;
  });
  const url = `http://127.0.0.1:${listen}/items`;

  const failures: string[] = [];
  let answered = 0;
  let stop = false;
  const post = async (): Promise<void> => {
    try {
      const r = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"title":"x"}',
        signal: AbortSignal.timeout(15_000),
      });
      const body = await r.text();
      if (r.status === 201) answered++;
      else failures.push(`${r.status} ${body.slice(0, 80)}`);
    } catch (err) {
      failures.push(`no answer: ${(err as Error).message}`);
    }
  };
  const started = Date.now();
  const steady = Array.from({ length: STEADY }, async () => {
    while (!stop && Date.now() - started < MAX_MS) await post();
  });
  let burstsDone = 0;
  const bursts = (async () => {
    while (!stop && Date.now() - started < MAX_MS) {
      const burstAt = Date.now();
      // Of changing depth, so some sockets are reached now and then, not on every burst or never.
      await Promise.all(Array.from({ length: 5 + Math.floor(Math.random() * (BURST - 5)) }, post));
      burstsDone++;
      // Just under to just over a second apart (a schedule): bursts reach nginx's deeper sockets when they
      // have been idle about a second, when a draining worker used to close them.
      await waitUntil(burstAt + 950 + Math.random() * 150);
    }
  })();
  const burstsAfter = async (from: number, n: number, what: string) => eventually(() => burstsDone >= from + n, 30_000, what);

  const count = (event: string, phase?: string) => hf?.logLines().filter((l) => l.event === event && (phase === undefined || l.phase === phase)).length ?? 0;
  for (let i = 1; i <= RELOADS; i++) {
    // Two bursts on the new workers first, so their connections fill nginx's pool and the next drain
    // has idle sockets to deal with.
    await burstsAfter(burstsDone, 2, `two bursts before reload ${i}`);
    hf.child.kill("SIGHUP");
    await eventually(() => count("reload", "done") >= i, 30_000, `reload ${i} finished`);
  }
  // The last old workers drain under load too: every replaced worker has had nothing in flight, and
  // two more bursts ran after that.
  await eventually(() => count("worker.drained") >= RELOADS * 2, 30_000, "every replaced worker drained");
  await burstsAfter(burstsDone, 2, "two bursts after the last drain");
  stop = true;
  await Promise.all([...steady, bursts]);

  const errors = [
    ...new Set(
      readFileSync(join(dir, "logs/error.log"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.replace(/^.*?\[(\w+)\] \d+#\d+: \*?\d* ?/, "[$1] ").replace(/, client:.*$/, "")),
    ),
  ];
  console.log(
    `\n${RELOADS} reloads in ${((Date.now() - started) / 1000).toFixed(1)} s: ${answered} POSTs answered 201, ${failures.length} failed; nginx error log: ${errors.slice(0, 5).join(" | ") || "empty"}\n`,
  );
  assert.ok(answered > RELOADS * BURST * 2, `the load ran (${answered} POSTs answered)`);
  assert.deepEqual(failures, [], "every POST sent through nginx during the reloads was answered 201");
});
