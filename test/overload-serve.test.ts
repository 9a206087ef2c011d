/**
 * Admission control black-box, through `holdfast serve` (built CLI in dist/): the 503 an
 * operator's clients see, health checks under overload, a queued request whose client left,
 * and a CPU-bound worker driven past capacity.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { runLoad } from "../src/load/index.js";
import { type HoldfastProcess, startHoldfast } from "./support/holdfast-process.js";
import { tempDir } from "./support/temp-dir.js";

const APP = `
const ran = new Set();
export default (req, res) => {
  const url = new URL(req.url, "http://x");
  const ms = Number(url.searchParams.get("ms") ?? 0);
  switch (url.pathname) {
    case "/healthz": return res.end("ok");
    case "/ran": return res.end(JSON.stringify({ ran: ran.has(url.searchParams.get("id")) }));
    case "/mark": ran.add(url.searchParams.get("id")); return res.end("marked");
    case "/slow": return void setTimeout(() => res.end("slow"), ms);
    case "/spin": { const end = performance.now() + ms; while (performance.now() < end); return res.end("spun"); }
  }
  res.statusCode = 404;
  res.end();
};
`;

const dir = tempDir("hf-overload-serve-");
const appFile = path.join(dir, "app.mjs");
writeFileSync(appFile, APP);
const running: HoldfastProcess[] = [];
after(async () => {
  await Promise.all(running.map((h) => h.stop("SIGKILL")));
});

async function serve(admission: Record<string, unknown>): Promise<HoldfastProcess> {
  const cfg = path.join(dir, `hf-${running.length}.json`);
  writeFileSync(cfg, JSON.stringify({ admission }));
  const h = await startHoldfast(appFile, { workers: 1, args: ["--config", cfg] });
  running.push(h);
  return h;
}

interface AdmissionView {
  shed: Record<string, number>;
  limit: number;
}
async function admissionOf(h: HoldfastProcess): Promise<AdmissionView> {
  // Worker stats reach the supervisor on its heartbeat: poll until this worker reports admission.
  for (let i = 0; i < 50; i++) {
    const s = (await h.status()) as unknown as { workers: { admission?: AdmissionView }[] };
    const a = s.workers[0]?.admission;
    if (a) return a;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no admission status from the worker within 5 s");
}

describe("overload through holdfast serve", () => {
  it("answers 503 OVERLOADED with a JSON body and an integer Retry-After at once, and never sheds /healthz", async () => {
    const h = await serve({ mode: "fixed", limit: 1, queueSize: 0 });
    const hold = fetch(`${h.appUrl}/slow?ms=1000`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 150));
    const t0 = performance.now();
    const res = await fetch(`${h.appUrl}/slow?ms=1`);
    const elapsed = performance.now() - t0;
    const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
    assert.equal(res.status, 503);
    assert.equal(body.error.code, "OVERLOADED");
    assert.match(body.error.message, /retry after/i);
    assert.ok(body.error.requestId);
    const retryAfter = res.headers.get("retry-after");
    assert.match(retryAfter ?? "", /^\d+$/);
    assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 30);
    assert.ok(elapsed < 200, `the 503 took ${elapsed.toFixed(0)} ms`);
    for (let i = 0; i < 5; i++) {
      const hz = await fetch(`${h.appUrl}/healthz`);
      assert.equal(hz.status, 200, "/healthz is critical: never shed");
      await hz.text();
    }
    assert.equal(await hold, "slow");
    const a = await admissionOf(h);
    assert.ok((a.shed.limit ?? 0) >= 1, `shed counts ${JSON.stringify(a.shed)}`);
    const metrics = await (await fetch(`${h.adminUrl}/metrics`)).text();
    assert.match(metrics, /holdfast_shed_requests_total\{[^}]*reason="limit"[^}]*\} [1-9]/);
  });

  it("a queued request whose client disconnects is never run", async () => {
    const h = await serve({ mode: "fixed", limit: 1, queueSize: 10, queueTarget: "5s", queueInterval: "10s" });
    const hold = fetch(`${h.appUrl}/slow?ms=1000`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 150));
    const ac = new AbortController();
    const gone = fetch(`${h.appUrl}/mark?id=gone-7`, { signal: ac.signal }).then(
      (r) => r.status,
      () => "aborted",
    );
    await new Promise((r) => setTimeout(r, 150));
    ac.abort();
    assert.equal(await gone, "aborted");
    assert.equal(await hold, "slow");
    await new Promise((r) => setTimeout(r, 300));
    const ran = (await (await fetch(`${h.appUrl}/ran?id=gone-7`)).json()) as { ran: boolean };
    assert.equal(ran.ran, false, "the abandoned request ran after the slot freed");
    // The shed count reaches /status on the next heartbeat.
    let shed = 0;
    for (let i = 0; i < 50 && shed === 0; i++) {
      shed = (await admissionOf(h)).shed["client-gone"] ?? 0;
      if (shed === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(shed, 1);
  });

  it("a CPU-bound worker at 3× capacity sheds instead of queueing: no connection errors, /healthz all 200", async (t) => {
    const h = await serve({ mode: "adaptive", eventLoopDelay: "30ms" });
    const url = `${h.appUrl}/spin?ms=2`;
    const capacity = async () => (await runLoad({ url, mode: "closed", connections: 4, durationMs: 1500 })).throughput_rps;
    const capBefore = await capacity();
    const health = runLoad({ url: `${h.appUrl}/healthz`, rate: 20, durationMs: 5000, connections: 4, timeoutMs: 20_000 });
    const r = await runLoad({ url, rate: Math.round(capBefore * 3), durationMs: 5000, connections: 512, timeoutMs: 20_000 });
    const hz = await health;
    // Measured again once every 3× request is answered: beside other load (other test files, a second
    // suite) the machine's speed moves by half within seconds, and goodput is judged against the slower reading.
    const capAfter = await capacity();
    const cap = Math.min(capBefore, capAfter);
    const lag = r.schedule_lag_ms.p99;
    t.diagnostic(
      `capacity ${capBefore}/s before, ${capAfter}/s after; 3×: ${JSON.stringify(r.status)}, goodput ${r.goodput_rps}/s, 2xx p99 ${r.p99_ms} ms, 503 p99 ${r.latency_ms.by_status["503"]?.p99} ms, generator lag p99 ${lag} ms; healthz p99 ${hz.latency_ms.all.p99} ms`,
    );
    assert.equal(r.status.error ?? 0, 0, `connection errors: ${JSON.stringify(r.errors)}`);
    assert.ok((r.status["503"] ?? 0) > 0, "overload was shed");
    assert.equal(hz.status["200"], hz.sent, `/healthz statuses ${JSON.stringify(hz.status)}`);
    // As bench:overload counts a stage: a generator that fell behind its schedule (lag p99 > 20 ms) did
    // not offer 3×, and its goodput says more about the machine than about admission.
    if (lag <= 20) assert.ok(r.goodput_rps > cap * 0.4, `goodput ${r.goodput_rps}/s of capacity ${cap}/s`);
    else t.diagnostic(`load generator fell behind (schedule lag p99 ${lag} ms > 20): goodput not judged`);
  });
});
