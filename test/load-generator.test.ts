/**
 * The load generator against real HTTP servers in child processes (so a server that stalls
 * cannot stall the generator): schedule, coordinated-omission-free latency, errors, SLO exit codes.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import path from "node:path";
import { after, describe, it } from "node:test";
import { runLoad } from "../src/load/index.js";
import { CLI } from "./support/holdfast-process.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
});

/** Starts `node -e <source>` that prints its port on stdout; resolves to the base URL. */
async function serverProcess(source: string): Promise<string> {
  const child = spawn(process.execPath, ["-e", source], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  return `http://127.0.0.1:${chunk.toString().trim()}`;
}

const LISTEN = `s.listen(0, "127.0.0.1", () => process.stdout.write(String(s.address().port) + "\\n"));`;

describe("holdfast load (generator)", () => {
  it("sends the scheduled number of requests at the rate and counts statuses", async () => {
    const url = await serverProcess(
      `const s = require("http").createServer((q, r) => { r.statusCode = q.url === "/bad" ? 500 : 200; r.end("x"); }); ${LISTEN}`,
    );
    const r = await runLoad({ url: `${url}/ok`, rate: 400, durationMs: 1500, connections: 32, request: (i) => ({ path: i % 4 === 0 ? "/bad" : "/ok" }) });
    assert.equal(r.sent, 600);
    assert.equal(r.completed, 600);
    assert.equal(r.status["200"], 450);
    assert.equal(r.status["500"], 150);
    assert.ok(r.goodput_rps > 250 && r.goodput_rps <= 300.5, `goodput ${r.goodput_rps}`);
  });

  it("measures latency from the scheduled send time: a 400 ms server stall shows in p90 (no coordinated omission)", async () => {
    // The server blocks its event loop for 400 ms at its 300th request: every request scheduled in that
    // window (about 200 at 500/s) waited for it. A closed-loop client would see one slow request.
    const src = `let n = 0; const s = require("http").createServer((q, r) => { if (++n === 300) { const t = Date.now(); while (Date.now() - t < 400); } r.end("x"); }); ${LISTEN}`;
    const open = await runLoad({ url: await serverProcess(src), rate: 500, durationMs: 2000, connections: 64 });
    assert.ok(open.latency_ms.all.p90 >= 100, `open-loop p90 ${open.latency_ms.all.p90} ms`);
    const closed = await runLoad({ url: await serverProcess(src), mode: "closed", connections: 1, durationMs: 1500 });
    assert.ok(closed.latency_ms.all.p90 < 50, `closed-loop p90 ${closed.latency_ms.all.p90} ms (only one request waits)`);
    assert.ok(closed.latency_ms.all.max >= 350, "the closed loop still saw the stall once");
  });

  it("counts refused connections and timeouts as errors, not as responses", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const refused = await runLoad({ url: `http://127.0.0.1:${port}/`, rate: 100, durationMs: 300 });
    assert.equal(refused.status.error, refused.sent);
    assert.equal(refused.errors.ECONNREFUSED, refused.sent);
    const hang = await serverProcess(`const s = require("http").createServer(() => {}); ${LISTEN}`);
    const t = await runLoad({ url: hang, rate: 50, durationMs: 200, timeoutMs: 300 });
    assert.equal(t.errors.timeout, t.sent);
  });

  it("CLI: exit code 1 and a FAIL line when an SLO is violated, 0 when met, JSON with --json", async () => {
    const url = await serverProcess(
      `let n = 0; const s = require("http").createServer((q, r) => { r.statusCode = ++n % 5 === 0 ? 503 : 200; r.end("x"); }); ${LISTEN}`,
    );
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const c = spawn(process.execPath, [CLI, "load", url, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        c.stdout.on("data", (d) => {
          out += d;
        });
        c.on("close", (code) => resolve({ code, out }));
      });
    const bad = await cli(["--rate", "200", "--duration", "1s", "--slo", "5xx<1%,p99<2s"]);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /SLO FAIL {2}5xx<1%/);
    assert.match(bad.out, /SLO pass {2}p99<2s/);
    const good = await cli(["--rate", "200", "--duration", "1s", "--slo", "5xx<30%", "--json"]);
    assert.equal(good.code, 0);
    const j = JSON.parse(good.out) as { status: Record<string, number>; slo: { ok: boolean }[] };
    assert.equal(j.status["503"], 40);
    assert.equal(j.slo[0]?.ok, true);
  });
});
