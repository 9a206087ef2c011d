// What every request gets from the worker runtime: deadline 504, JSON 500, request ids, timeouts.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { request } from "undici";
import { FIXTURES, startHoldfast } from "./support/holdfast-process.js";

const APP = join(FIXTURES, "basic.mjs");

test("a request past its deadline gets a 504 JSON body; a throwing handler a JSON 500; the worker keeps serving", async () => {
  const hf = await startHoldfast(APP, {
    workers: 1,
    env: { HOLDFAST_TIMEOUTS_DEADLINE: "500ms", HOLDFAST_TIMEOUTS_HEADERS: "1500ms", HOLDFAST_TIMEOUTS_KEEP_ALIVE: "1s" },
  });
  try {
    const t0 = Date.now();
    const r = await request(`${hf.appUrl}/never`, { headers: { "x-request-id": "req-deadline-1" } });
    const took = Date.now() - t0;
    assert.equal(r.statusCode, 504);
    assert.equal(r.headers["x-request-id"], "req-deadline-1");
    assert.match(String(r.headers["content-type"]), /application\/json/);
    const body = (await r.body.json()) as { error: { code: string; message: string; requestId: string } };
    assert.equal(body.error.code, "DEADLINE_EXCEEDED");
    assert.equal(body.error.requestId, "req-deadline-1");
    assert.ok(took >= 450 && took < 2000, `took ${took} ms`);
    await hf.waitForLog((l) => l.event === "deadline" && l.reqId === "req-deadline-1");

    const e = await request(`${hf.appUrl}/throw`);
    assert.equal(e.statusCode, 500);
    const eb = (await e.body.json()) as { error: { code: string; requestId: string } };
    assert.equal(eb.error.code, "INTERNAL");
    assert.ok(eb.error.requestId.length > 5);
    await hf.waitForLog((l) => l.event === "request.error" && l.reqId === eb.error.requestId && l.level === "error");

    // A late write from the app after holdfast answered 504 does not crash anything.
    const slow = await request(`${hf.appUrl}/slow?ms=900`);
    assert.equal(slow.statusCode, 504);
    await slow.body.dump();
    await new Promise((r) => setTimeout(r, 600));
    const ok = await request(`${hf.appUrl}/`);
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
    assert.equal((await hf.status()).counters.crashes, 0);
    const reqLine = await hf.waitForLog((l) => l.event === "request" && l.status === 504);
    assert.equal(typeof reqLine.durationMs, "number");
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});

test("the default keep-alive timeout (65 s) is advertised, and the headers timeout closes a slow client", async () => {
  const defaults = await startHoldfast(APP, { workers: 1 });
  try {
    const r = await request(`${defaults.appUrl}/`);
    assert.equal(r.headers["keep-alive"], "timeout=65");
    await r.body.dump();
  } finally {
    assert.equal(await defaults.stop(), 0);
  }
  const hf = await startHoldfast(APP, { workers: 1, env: { HOLDFAST_TIMEOUTS_HEADERS: "1500ms", HOLDFAST_TIMEOUTS_KEEP_ALIVE: "1s" } });
  try {
    const { port } = new URL(hf.appUrl);
    const t0 = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(port), "127.0.0.1", () => s.write("GET / HTTP/1.1\r\nHost: x\r\n")); // never finishes its headers
      let got = "";
      s.on("data", (d) => {
        got += d;
      });
      s.on("close", () => resolve(got));
      s.on("error", reject);
      setTimeout(() => reject(new Error("headers timeout did not close the socket")), 8000).unref();
    });
    const took = Date.now() - t0;
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.ok(took >= 1400 && took < 4500, `closed after ${took} ms`);
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});
