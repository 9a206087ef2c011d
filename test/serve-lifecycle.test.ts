// Rolling reload and graceful shutdown lose no request.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Client, Pool } from "undici";
import { eventually, FIXTURES, startHoldfast } from "./support/holdfast-process.js";

const APP = join(FIXTURES, "basic.mjs");

test("SIGHUP reload during steady load completes with zero failed requests", async () => {
  const hf = await startHoldfast(APP, { workers: 2 });
  try {
    const before = (await hf.status()).workers.map((w) => w.pid);
    const pool = new Pool(hf.appUrl, { connections: 8 });
    let ok = 0;
    const failures: string[] = [];
    const pidsSeen = new Set<number>();
    let reloadDone = false;
    const until = Date.now() + 20_000; // hard bound
    const loop = async () => {
      let after = 0;
      // Keep loading until the reload is done and then some more, bounded in time.
      while (Date.now() < until && after < 40) {
        if (reloadDone) after++;
        try {
          const r = await pool.request({ path: "/slow?ms=5", method: "GET" });
          const body = (await r.body.json()) as { pid: number };
          if (r.statusCode === 200) {
            ok++;
            pidsSeen.add(body.pid);
          } else failures.push(`status ${r.statusCode}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    const loops = Array.from({ length: 8 }, loop);
    await new Promise((r) => setTimeout(r, 500));
    hf.child.kill("SIGHUP");
    await hf.waitForLog((l) => l.event === "reload" && l.phase === "done", 15_000);
    reloadDone = true;
    await Promise.all(loops);
    await pool.close();
    assert.deepEqual(failures, [], `${failures.length} failed of ${ok + failures.length}`);
    assert.ok(ok > 200, `only ${ok} requests`);
    const after = (await hf.status()).workers.map((w) => w.pid);
    assert.ok(
      after.every((p) => !before.includes(p)),
      "every worker was replaced",
    );
    assert.ok(
      after.some((p) => pidsSeen.has(p)),
      "new workers served traffic",
    );
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});

test("SIGTERM with slow requests in flight lets them finish, then exits 0", async () => {
  const hf = await startHoldfast(APP, { workers: 2 });
  const pool = new Pool(hf.appUrl, { connections: 4 });
  const slow = Array.from({ length: 4 }, () =>
    pool.request({ path: "/slow?ms=1500", method: "GET" }).then(async (r) => ({ status: r.statusCode, body: await r.body.text() })),
  );
  await eventually(async () => (await hf.status()).workers.reduce((n, w) => n + w.inflight, 0) === 4, 5_000, "4 requests in flight");
  const sentAt = Date.now();
  hf.child.kill("SIGTERM");
  // Readiness goes false at once so a balancer stops sending.
  // The signal is delivered asynchronously: readiness must turn false within a moment, long before the 1.5 s requests end.
  const ready = await eventually(
    async () => {
      const s = await fetch(`${hf.adminUrl}/readyz`)
        .then((r) => r.status)
        .catch(() => 0);
      return s === 503 || s === 0 ? { status: s } : undefined;
    },
    1_000,
    "readyz false after SIGTERM",
  );
  assert.ok(ready.status === 503 || ready.status === 0, `readyz answered ${ready.status}`);
  const results = await Promise.all(slow);
  assert.deepEqual(
    results.map((r) => r.status),
    [200, 200, 200, 200],
  );
  const code = await hf.exited;
  assert.equal(code, 0);
  assert.ok(Date.now() - sentAt < 10_000);
  await pool.close();
  const shutdown = hf.logLines().filter((l) => l.event === "shutdown");
  assert.deepEqual(
    shutdown.map((l) => l.phase),
    ["start", "done"],
  );
});

test("requests past maxRequests recycle workers one at a time", async () => {
  const hf = await startHoldfast(APP, { workers: 2, env: { HOLDFAST_RECYCLE_MAX_REQUESTS: "30" } });
  try {
    const pool = new Pool(hf.appUrl, { connections: 4 });
    let failed = 0;
    for (let i = 0; i < 200; i++) {
      const r = await pool.request({ path: "/", method: "GET" }).catch(() => undefined);
      if (r?.statusCode !== 200) failed++;
      await r?.body.dump();
    }
    await pool.close();
    await eventually(() => hf.logLines().filter((l) => l.event === "worker.exit" && l.reason === "recycle").length >= 2, 15_000, "two recycled workers exited");
    assert.equal(failed, 0);
    // Replacements are serialized: a recycle never starts while another recycled worker still has
    // requests in flight (worker.drained; its idle keep-alive sockets may stay open a while longer).
    const lines = hf.logLines().filter((l) => l.event === "worker.recycle" || l.event === "worker.drained");
    let open = 0;
    for (const l of lines) {
      open += l.event === "worker.recycle" ? 1 : -1;
      assert.ok(open <= 1, "two workers recycled at once");
    }
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});

test("SIGHUP re-reads the config: new values roll out with the workers; an invalid config cancels the reload", async () => {
  const hf = await startHoldfast(APP, { files: { "holdfast.config.json": JSON.stringify({ workers: 1, timeouts: { deadline: "400ms" } }) } });
  try {
    assert.equal((await hf.status()).workers.length, 1);
    assert.equal((await fetch(`${hf.appUrl}/slow?ms=700`)).status, 504);
    writeFileSync(join(hf.dir, "holdfast.config.json"), JSON.stringify({ workers: 2, timeouts: { deadline: "2s" } }));
    hf.child.kill("SIGHUP");
    await hf.waitForLog((l) => l.event === "reload" && l.phase === "done", 15_000);
    const s = await hf.status();
    assert.deepEqual(
      s.workers.map((w) => w.state),
      ["ready", "ready"],
    );
    // On a new connection: one kept alive from before the reload may still reach the draining old
    // worker once (answered with Connection: close), as the drain leaves idle sockets to the client.
    const fresh = new Client(hf.appUrl);
    const after = await fresh.request({ path: "/slow?ms=700", method: "GET" });
    await after.body.dump();
    await fresh.close();
    assert.equal(after.statusCode, 200, "the new deadline applies");

    writeFileSync(join(hf.dir, "holdfast.config.json"), JSON.stringify({ workers: 2, timeouts: { deadline: "never" } }));
    const pids = (await hf.status()).workers.map((w) => w.pid);
    hf.child.kill("SIGHUP");
    const failed = await hf.waitForLog((l) => l.event === "reload" && l.phase === "failed", 10_000);
    assert.match(String(failed.error), /timeouts\.deadline = "never"/);
    assert.deepEqual(
      (await hf.status()).workers.map((w) => w.pid),
      pids,
      "old workers keep serving",
    );
    assert.equal((await fetch(`${hf.appUrl}/`)).status, 200);
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});
