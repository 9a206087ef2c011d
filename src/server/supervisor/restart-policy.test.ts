// The restart policy as a pure function of the deaths it is told about (times are given, no clock).
import assert from "node:assert/strict";
import { test } from "node:test";
import { RestartPolicy } from "./restart-policy.js";

const opts = { backoffInitial: 100, backoffMax: 1000, crashLoopWindow: 60_000, crashLoopMax: 10, minUptime: 1000 };

test("a worker that served and then died is replaced at once, however often it happens", () => {
  const p = new RestartPolicy(opts);
  // 30 kill -9s in 30 s, each of a worker that had been ready for 2 s: an operator or the OOM killer.
  for (let i = 0; i < 30; i++) {
    const d = p.onDeath({ slot: (i % 4) + 1, at: 10_000 + i * 1000, readyAt: 8_000 + i * 1000 });
    assert.deepEqual(d, { action: "restart", delayMs: 0, counted: false, recentEarlyDeaths: 0 });
  }
});

test("deaths before ready back off per slot: one slot's streak does not delay another slot", () => {
  const p = new RestartPolicy(opts);
  const delays = [1, 1, 1, 2, 1].map((slot, i) => p.onDeath({ slot, at: 1000 + i, readyAt: undefined }));
  assert.deepEqual(
    delays.map((d) => (d.action === "restart" ? d.delayMs : -1)),
    [100, 200, 400, 100, 800],
  );
  assert.ok(delays.every((d) => d.counted));
  // Backoff is capped at backoffMax.
  const capped = [1, 1, 1].map((_, i) => p.onDeath({ slot: 1, at: 2000 + i, readyAt: undefined }));
  assert.deepEqual(
    capped.map((d) => (d.action === "restart" ? d.delayMs : -1)),
    [1000, 1000, 1000],
  );
});

test("a worker that got ready is replaced at once, and clears its slot's backoff, even if it died young", () => {
  const p = new RestartPolicy(opts);
  p.onDeath({ slot: 1, at: 1000, readyAt: undefined });
  p.onDeath({ slot: 1, at: 2000, readyAt: undefined });
  const young = p.onDeath({ slot: 1, at: 3000, readyAt: 2700 });
  assert.deepEqual(young, { action: "restart", delayMs: 0, counted: true, recentEarlyDeaths: 3 });
  assert.equal((p.onDeath({ slot: 1, at: 9500, readyAt: undefined }) as { delayMs: number }).delayMs, 100);
});

test("more early deaths than crashLoopMax inside the window is a crash loop; served deaths never count", () => {
  const p = new RestartPolicy({ ...opts, crashLoopMax: 3 });
  for (let i = 0; i < 20; i++) assert.equal(p.onDeath({ slot: 1, at: 1000 + i, readyAt: 0 }).action, "restart");
  // Died 400 ms after it was ready (below minUptime): the shape of a bad deploy.
  const verdicts = [0, 1, 2, 3].map((i) => p.onDeath({ slot: 1 + (i % 2), at: 5000 + i * 500, readyAt: 4600 + i * 500 }));
  assert.deepEqual(
    verdicts.map((d) => d.action),
    ["restart", "restart", "restart", "give-up"],
  );
  assert.equal(verdicts[3]?.recentEarlyDeaths, 4);
});

test("early deaths older than crashLoopWindow are forgotten", () => {
  const p = new RestartPolicy({ ...opts, crashLoopMax: 2, crashLoopWindow: 10_000 });
  p.onDeath({ slot: 1, at: 0, readyAt: undefined });
  p.onDeath({ slot: 1, at: 1000, readyAt: undefined });
  const d = p.onDeath({ slot: 1, at: 12_000, readyAt: undefined });
  assert.equal(d.action, "restart");
  assert.equal(d.recentEarlyDeaths, 1);
});

test("SIGKILL of a worker that got ready is an operator or the OOM killer: replaced at once, never a crash loop", () => {
  const p = new RestartPolicy({ ...opts, crashLoopMax: 2 });
  // Killed 200 ms after it got ready, 20 times: still not the app's fault.
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(p.onDeath({ slot: 1, at: 1000 * i + 200, readyAt: 1000 * i, signal: "SIGKILL" }), {
      action: "restart",
      delayMs: 0,
      counted: false,
      recentEarlyDeaths: 0,
    });
  }
  // SIGKILL before ready still backs off and counts: the app could not start on this machine.
  assert.deepEqual(p.onDeath({ slot: 1, at: 30_000, readyAt: undefined, signal: "SIGKILL" }), {
    action: "restart",
    delayMs: 100,
    counted: true,
    recentEarlyDeaths: 1,
  });
  // A native crash right after start counts.
  assert.equal(p.onDeath({ slot: 2, at: 30_100, readyAt: 30_000, signal: "SIGSEGV" }).counted, true);
});
