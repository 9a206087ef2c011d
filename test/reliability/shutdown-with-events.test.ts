// Fault suite: SIGTERM ends within timeouts.graceful even while dashboard tabs and other
// /events (Server-Sent Events) clients hold the admin endpoint open; they never end by themselves.
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { FIXTURES, startHoldfast } from "../support/holdfast-process.js";

const GRACEFUL_MS = 3000;

/** Opens an /events stream; resolves once the first event arrived, with a promise of how it ended. */
function openEvents(adminUrl: string): Promise<{ ended: Promise<{ how: "end" | "error"; events: string[] }> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${adminUrl}/events`, { agent: false }, (res) => {
      const events: string[] = [];
      let first = true;
      const ended = new Promise<{ how: "end" | "error"; events: string[] }>((done) => {
        res.on("data", (chunk: Buffer) => {
          for (const m of chunk.toString().matchAll(/^event: (\S+)$/gm)) events.push(m[1] as string);
          if (first) {
            first = false;
            resolve({ ended });
          }
        });
        res.on("end", () => done({ how: "end", events }));
        res.on("error", () => done({ how: "error", events }));
        res.on("aborted", () => done({ how: "error", events }));
      });
    });
    req.on("error", reject);
    req.end();
  });
}

test("SIGTERM with open /events clients and a dashboard tab ends within timeouts.graceful", async () => {
  const hf = await startHoldfast(join(FIXTURES, "basic.mjs"), { workers: 2, env: { HOLDFAST_TIMEOUTS_GRACEFUL: `${GRACEFUL_MS}ms` } });
  let code: number | null = null;
  try {
    const streams = await Promise.all(Array.from({ length: 3 }, () => openEvents(hf.adminUrl)));
    // A dashboard tab: the page, then its own event stream.
    assert.equal((await fetch(`${hf.adminUrl}/`)).status, 200);
    streams.push(await openEvents(hf.adminUrl));
    const sent = Date.now();
    hf.child.kill("SIGTERM");
    const bound = new Promise<"still running">((r) => setTimeout(() => r("still running"), GRACEFUL_MS + 10_000).unref());
    const result = await Promise.race([hf.exited, bound]);
    const tookMs = Date.now() - sent;
    const ends = await Promise.race([Promise.all(streams.map((s) => s.ended)), new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000).unref())]);
    console.log(
      `shutdown with ${streams.length} open /events clients: ${result === "still running" ? `still running after ${tookMs} ms` : `exited ${result} after ${tookMs} ms`} (timeouts.graceful ${GRACEFUL_MS} ms); streams ended: ${ends ? ends.map((e) => e.how).join(", ") : "not all"}`,
    );
    assert.notEqual(result, "still running", "the supervisor did not exit");
    code = result as number | null;
    assert.equal(code, 0);
    assert.ok(tookMs <= GRACEFUL_MS, `shutdown took ${tookMs} ms, more than timeouts.graceful (${GRACEFUL_MS} ms)`);
    assert.ok(ends, "every event stream ended");
    // Each stream ended cleanly after telling its client that holdfast shut down.
    for (const e of ends ?? []) {
      assert.equal(e.how, "end");
      assert.ok(e.events.includes("supervisor"), `events seen: ${e.events.join(", ")}`);
    }
  } finally {
    if (code === null) hf.child.kill("SIGKILL");
  }
});
