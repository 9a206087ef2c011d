// What a reload does with a client's idle kept-alive connection (src/server/drain-policy.ts): the reload
// finishes without waiting for it, the old worker answers one more request on it with
// Connection: close and then exits, and a shutdown during such a drain does not wait for the client.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { Client } from "undici";
import { eventually, FIXTURES, startHoldfast } from "./support/holdfast-process.js";

const APP = join(FIXTURES, "basic.mjs");

async function get(client: Client): Promise<{ pid: number; connection: string | undefined }> {
  const r = await client.request({ path: "/", method: "GET" });
  const body = (await r.body.json()) as { pid: number };
  const c = r.headers.connection;
  return { pid: body.pid, connection: typeof c === "string" ? c : undefined };
}

test("after a reload an idle kept-alive connection gets one answer from the old worker, with Connection: close, then the old worker exits", async () => {
  const hf = await startHoldfast(APP, { workers: 1 });
  // keepAliveTimeout far above the test's length: only the server's Connection: close may end the connection.
  const client = new Client(hf.appUrl, { keepAliveTimeout: 120_000, keepAliveMaxTimeout: 120_000 });
  try {
    const before = await get(client);
    assert.equal(before.connection, "keep-alive");
    const reloads = () => hf.logLines().filter((l) => l.event === "reload" && l.phase === "done").length;
    hf.child.kill("SIGHUP");
    // The reload does not wait for the idle connection (it would until timeouts.keepAlive, 65 s).
    await eventually(() => reloads() === 1, 15_000, "reload done");
    const drained = hf.logLines().find((l) => l.event === "worker.drained" && l.workerPid === before.pid);
    assert.ok(drained, "the old worker reported nothing in flight");
    assert.equal(drained.idleSockets, 1, "with the client's idle connection still open");
    assert.equal(
      hf.logLines().some((l) => l.event === "worker.exit" && l.workerPid === before.pid),
      false,
      "the old worker still holds the connection",
    );
    const onOld = await get(client);
    assert.deepEqual(onOld, { pid: before.pid, connection: "close" }, "served by the old worker, which asks the client to close");
    const onNew = await get(client);
    assert.notEqual(onNew.pid, before.pid, "the next request, on a new connection, reaches the new worker");
    await hf.waitForLog((l) => l.event === "worker.exit" && l.workerPid === before.pid && l.reason === "reload", 10_000);
  } finally {
    await client.close();
    assert.equal(await hf.stop(), 0);
  }
});

test("SIGTERM while an old worker waits for an idle kept-alive connection stops within timeouts.graceful", async () => {
  const hf = await startHoldfast(APP, { workers: 1, env: { HOLDFAST_TIMEOUTS_GRACEFUL: "3s" } });
  const client = new Client(hf.appUrl, { keepAliveTimeout: 120_000, keepAliveMaxTimeout: 120_000 });
  try {
    const before = await get(client);
    hf.child.kill("SIGHUP");
    await eventually(() => hf.logLines().some((l) => l.event === "worker.drained" && l.workerPid === before.pid), 15_000, "old worker drained");
    await hf.waitForLog((l) => l.event === "reload" && l.phase === "done", 15_000);
    const started = Date.now();
    // Without the shutdown reaching the lingering worker it would keep the connection until timeouts.keepAlive (65 s).
    assert.equal(await hf.stop(), 0);
    const ms = Date.now() - started;
    // Past the graceful 3 s the supervisor kills what is left (at 5 s): stopping before it shows the
    // old worker closed the idle connection itself.
    assert.ok(ms < 3000, `stopped in ${ms} ms (timeouts.graceful 3 s)`);
  } finally {
    await client.close();
  }
});
