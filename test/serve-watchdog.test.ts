// The supervisor replaces workers that die or get stuck, without disturbing the others.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { Agent, request } from "undici";
import { eventually, FIXTURES, startHoldfast } from "./support/holdfast-process.js";

const APP = join(FIXTURES, "basic.mjs");

test("a worker killed with SIGKILL is replaced, and the other worker's requests are unaffected", async () => {
  const hf = await startHoldfast(APP, { workers: 2 });
  try {
    const before = await hf.status();
    assert.equal(before.workers.length, 2);
    const [victim, survivor] = before.workers as [(typeof before.workers)[0], (typeof before.workers)[0]];
    // Fresh connections so the supervisor spreads requests over both workers.
    const agent = new Agent({ pipelining: 0, keepAliveTimeout: 1 });
    const results: Array<{ ok: boolean; pid?: number }> = [];
    const inflight = Array.from({ length: 6 }, () =>
      request(`${hf.appUrl}/slow?ms=1500`, { dispatcher: agent, headers: { connection: "close" } })
        .then(async (r) => results.push({ ok: r.statusCode === 200, pid: ((await r.body.json()) as { pid: number }).pid }))
        .catch(() => results.push({ ok: false })),
    );
    await new Promise((r) => setTimeout(r, 300));
    process.kill(victim.pid, "SIGKILL");
    await Promise.all(inflight);
    // Every request the survivor took completed; only the killed worker's requests failed.
    const failed = results.filter((r) => !r.ok).length;
    const fromSurvivor = results.filter((r) => r.ok && r.pid === survivor.pid).length;
    assert.ok(fromSurvivor >= 1, `survivor answered ${fromSurvivor}`);
    assert.equal(failed + fromSurvivor, 6, `unexpected answers: ${JSON.stringify(results)}`);
    assert.ok(
      results.every((r) => !r.ok || r.pid === survivor.pid),
      "no answer can come from the killed worker",
    );
    const after = await eventually(
      async () => {
        const s = await hf.status();
        const slot = s.workers.find((w) => w.id === victim.id);
        return slot && slot.pid !== victim.pid && slot.state === "ready" ? s : undefined;
      },
      10_000,
      "replacement worker ready",
    );
    assert.equal(after.workers.find((w) => w.id === victim.id)?.restarts, 1);
    assert.equal(after.workers.find((w) => w.id === survivor.id)?.pid, survivor.pid, "the other worker was left alone");
    await hf.waitForLog((l) => l.event === "worker.exit" && l.workerPid === victim.pid && l.reason === "crash");
    const ok = await request(`${hf.appUrl}/`, { dispatcher: agent });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
    await agent.close();
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});

test("a route that busy-loops is detected within heartbeat timeout + 1 s, logged with its request and stack, and the worker replaced", async () => {
  const hf = await startHoldfast(APP, { workers: 1, env: { HOLDFAST_TIMEOUTS_HEARTBEAT: "2s" } });
  try {
    const [w] = (await hf.status()).workers;
    const sent = Date.now();
    const stuck = request(`${hf.appUrl}/spin?ms=60000`, { headers: { "x-request-id": "stuck-req-1" } }).catch((e: Error) => e);
    const line = await hf.waitForLog((l) => l.event === "worker.timeout", 8_000);
    const detectedAfter = Date.parse(String(line.time)) - sent;
    assert.ok(detectedAfter <= 2000 + 1000 + 250, `detected after ${detectedAfter} ms`);
    assert.equal(line.workerPid, w?.pid);
    const inflight = line.inflight as Array<{ reqId: string; path: string }>;
    assert.ok(
      inflight.some((r) => r.reqId === "stuck-req-1" && r.path === "/spin"),
      JSON.stringify(inflight),
    );
    assert.match(String(line.stack), /spinForever/, "the stuck code's stack is in the log");
    await stuck;
    const s = await eventually(
      async () => {
        const st = await hf.status();
        return st.workers[0]?.pid !== w?.pid && st.workers[0]?.state === "ready" ? st : undefined;
      },
      10_000,
      "replacement ready",
    );
    assert.equal(s.counters.timeouts, 1);
    const r = await request(`${hf.appUrl}/`);
    assert.equal(r.statusCode, 200);
    await r.body.dump();
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});

test("an uncaught exception lets the worker finish its in-flight requests, then it is replaced", async () => {
  const hf = await startHoldfast(APP, { workers: 1 });
  try {
    const [w] = (await hf.status()).workers;
    const slow = request(`${hf.appUrl}/slow?ms=800`);
    await new Promise((r) => setTimeout(r, 100));
    const crash = await request(`${hf.appUrl}/crash?ms=300`);
    assert.equal(crash.statusCode, 200, "the crashing request itself still completes");
    await crash.body.dump();
    const s = await slow;
    assert.equal(s.statusCode, 200, "the other in-flight request finished");
    await s.body.dump();
    await hf.waitForLog((l) => l.event === "worker.uncaught");
    await eventually(
      async () => {
        const st = await hf.status();
        return st.workers[0]?.pid !== w?.pid && st.workers[0]?.state === "ready";
      },
      10_000,
      "replacement ready",
    );
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});

test("a worker that crashes at start-up stops holdfast with the app's error instead of looping", async () => {
  const hf = startHoldfast(join(FIXTURES, "does-not-exist.mjs"), { workers: 1 });
  await assert.rejects(hf, (err: Error) => {
    assert.match(err.message, /Could not load the app module .*does-not-exist\.mjs/);
    assert.match(err.message, /exited early \(1\)/);
    return true;
  });
});

test("with --port 0, a replacement for the only worker listens on the same port", async () => {
  const hf = await startHoldfast(APP, { workers: 1 });
  try {
    const [w] = (await hf.status()).workers;
    process.kill(w?.pid as number, "SIGKILL");
    await eventually(
      async () => {
        const st = await hf.status();
        return st.workers[0]?.pid !== w?.pid && st.workers[0]?.state === "ready";
      },
      10_000,
      "replacement ready",
    );
    const r = await request(`${hf.appUrl}/`);
    assert.equal(r.statusCode, 200);
    await r.body.dump();
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});
