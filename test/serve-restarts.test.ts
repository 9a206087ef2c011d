// Restart policy: a crash loop stops holdfast with a clear error; memory recycling replaces one worker at a time.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { Pool } from "undici";
import { eventually, FIXTURES, startHoldfast } from "./support/holdfast-process.js";

test("workers that keep crashing after start-up end in a crash-loop error and exit 1, not a hot restart loop", async () => {
  const hf = await startHoldfast(join(FIXTURES, "dies-after-start.mjs"), {
    workers: 1,
    env: { HOLDFAST_RESTART_CRASH_LOOP_MAX: "3", HOLDFAST_RESTART_BACKOFF_INITIAL: "50ms" },
  });
  const code = await Promise.race([hf.exited, new Promise((r) => setTimeout(() => r("still running"), 20_000))]);
  assert.equal(code, 1);
  assert.match(hf.stderr(), /Crash loop: 4 worker crashes within 60 s \(restart\.crashLoopMax = 3\)/);
  const exits = hf.logLines().filter((l) => l.event === "worker.exit" && l.reason === "crash");
  assert.equal(exits.length, 4);
  // No hot loop: the first start and four restarts (with 50, 100, 200 ms … of backoff), then the verdict.
  const starts = hf.logLines().filter((l) => l.event === "worker.start");
  assert.ok(starts.length <= 5, `${starts.length} starts`);
  assert.ok(hf.logLines().some((l) => l.event === "worker.crashloop"));
});

test("workers above recycle.maxRss are replaced one at a time while requests keep succeeding", async () => {
  // Every worker is above 1 MB, so the supervisor keeps recycling: a stress test of the one-at-a-time rule.
  const hf = await startHoldfast(join(FIXTURES, "basic.mjs"), { workers: 2, env: { HOLDFAST_RECYCLE_MAX_RSS: "1MB" } });
  try {
    const pool = new Pool(hf.appUrl, { connections: 4 });
    let failed = 0;
    let ok = 0;
    const until = Date.now() + 4000;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < until) {
          const r = await pool.request({ path: "/", method: "GET" }).catch(() => undefined);
          if (r?.statusCode === 200) ok++;
          else failed++;
          await r?.body.dump();
        }
      }),
    );
    await pool.close();
    await eventually(() => hf.logLines().filter((l) => l.event === "worker.exit" && l.reason === "recycle").length >= 2, 10_000, "two recycles");
    assert.equal(failed, 0, `${failed} failed of ${ok + failed}`);
    const recycles = hf.logLines().filter((l) => l.event === "worker.recycle");
    assert.ok(recycles.every((l) => l.reason === "maxRss" && Number(l.rssBytes) > 1024 * 1024));
    // One at a time: the next recycle starts only once the previous old worker has nothing in flight
    // (worker.drained); its idle keep-alive sockets may stay open for their client to close.
    let open = 0;
    for (const l of hf.logLines().filter((x) => x.event === "worker.recycle" || x.event === "worker.drained")) {
      open += l.event === "worker.recycle" ? 1 : -1;
      assert.ok(open <= 1, "two workers recycled at once");
    }
  } finally {
    const code = await hf.stop();
    // Once in ~30 runs (a full suite, 2026-11-30) this exited 1; say why when it does (and read the
    // log only then).
    if (code !== 0) {
      const tail = hf
        .logLines()
        .filter((l) => l.level !== "info" || String(l.event).startsWith("worker.exit") || l.event === "shutdown")
        .slice(-12)
        .map((l) => JSON.stringify(l))
        .join("\n");
      assert.fail(`holdfast exited ${code}. stderr:\n${hf.stderr().slice(-2000)}\nlast warnings, exits and shutdown lines:\n${tail}`);
    }
  }
});

test("kill -9 of workers that had been serving replaces each at once and is never a crash loop", async () => {
  // Backoff of 1 s and a crash-loop limit of 3 make the old shared policy visible: its delays
  // grew 1 s, 2 s, 4 s and the fourth kill stopped holdfast although the app was healthy.
  const hf = await startHoldfast(join(FIXTURES, "basic.mjs"), {
    workers: 2,
    env: { HOLDFAST_RESTART_CRASH_LOOP_MAX: "3", HOLDFAST_RESTART_BACKOFF_INITIAL: "1s", HOLDFAST_RESTART_MIN_UPTIME: "1s" },
  });
  try {
    const readySince = new Map<number, number>();
    const readyWorkers = async () => {
      const s = await hf.status();
      const now = Date.now();
      for (const w of s.workers) if (w.state === "ready" && !readySince.has(w.pid)) readySince.set(w.pid, now);
      return s.workers.filter((w) => w.state === "ready");
    };
    const kills = 6;
    const replacedAfter: number[] = [];
    for (let i = 0; i < kills; i++) {
      // A worker that has served: ready (as far as this test saw) for longer than restart.minUptime.
      const victim = await eventually(
        async () => {
          const ready = await readyWorkers();
          const served = ready.filter((w) => Date.now() - (readySince.get(w.pid) ?? Date.now()) > 1300);
          return ready.length === 2 && served.length ? served[i % served.length] : undefined;
        },
        15_000,
        "a worker that has served",
      );
      const killedAt = Date.now();
      process.kill(victim.pid, "SIGKILL");
      await eventually(async () => (await readyWorkers()).some((w) => w.id === victim.id && w.pid !== victim.pid), 15_000, `slot ${victim.id} replaced`);
      replacedAfter.push(Date.now() - killedAt);
      assert.equal(hf.child.exitCode, null, `holdfast exited after kill ${i + 1}:\n${hf.stderr()}`);
    }
    const exits = hf.logLines().filter((l) => l.event === "worker.exit" && l.reason === "crash");
    assert.equal(exits.length, kills);
    assert.deepEqual(
      exits.map((l) => l.restartInMs),
      Array(kills).fill(0),
      "each replacement is forked at once",
    );
    assert.ok(!hf.logLines().some((l) => l.event === "worker.crashloop"), "no crash-loop verdict");
    assert.ok(Math.max(...replacedAfter) < 5000, `replacements ready after ${replacedAfter.join(", ")} ms`);
  } finally {
    assert.equal(await hf.stop(), 0, `holdfast did not stop cleanly; its stderr:\n${hf.stderr()}`);
  }
});
