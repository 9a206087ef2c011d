// Request targets an app cannot parse (`GET //[`, `GET http://[::1`) get a JSON 400 from holdfast; the demo used to answer 500.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { startHoldfast } from "./support/holdfast-process.js";

const DEMO = join(new URL("../examples/notes/app.js", import.meta.url).pathname);

/** Sends one raw HTTP/1.1 request line and returns the status and body of the answer. */
function raw(port: number, target: string, method = "GET"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    let data = "";
    s.setTimeout(10_000, () => s.destroy(new Error(`no answer to ${method} ${target} within 10 s`)));
    s.on("connect", () => s.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    s.on("data", (d) => {
      data += d;
    });
    s.on("error", reject);
    s.on("close", () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf("\r\n\r\n") + 4) });
    });
  });
}

test("the demo answers 400 with a JSON error to targets its URL parsing would throw on, and keeps serving", async () => {
  const hf = await startHoldfast(DEMO, { workers: 1 });
  try {
    const port = Number(new URL(hf.appUrl).port);
    for (const target of ["//[", "http://[::1", "http://[::1]:99999/notes", "/\\[", "notes"]) {
      const r = await raw(port, target);
      assert.equal(r.status, 400, `${target}: ${r.status} ${r.body}`);
      const body = JSON.parse(r.body) as { error: { code: string; message: string; requestId: string } };
      assert.equal(body.error.code, "BAD_REQUEST", target);
      assert.match(body.error.message, /(request target .* does not parse as a URL|not valid HTTP\/1\.1 \(HPE_INVALID_URL\))/);
      assert.ok(body.error.requestId.length > 0);
    }
    // Well-formed targets still reach the app: a path, an absolute URL and OPTIONS *.
    assert.equal((await raw(port, "/api/notes")).status, 200);
    assert.equal((await raw(port, "http://127.0.0.1/api/notes")).status, 200);
    assert.notEqual((await raw(port, "*", "OPTIONS")).status, 400);
    const st = await hf.status();
    assert.equal(st.workers[0]?.restarts, 0);
  } finally {
    await hf.stop();
  }
});
