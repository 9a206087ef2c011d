import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Collector } from "./collector.js";
import { renderReport } from "./html-report.js";

/** The `d` of the latency chart's path titled `name` (the first chart in the report). */
function latencyPath(html: string, name: string): string {
  const chart = html.slice(html.indexOf("Latency of the responses"));
  const m = new RegExp(`<path d="([^"]*)"[^>]*><title>${name}</title>`).exec(chart);
  assert.ok(m, `a ${name} line in the latency chart`);
  return m[1] as string;
}

describe("load HTML report", () => {
  it("leaves a gap in the latency lines for a second whose completions were all connection errors, instead of a 0 ms point", () => {
    // Times on an injected clock: second 0 answers in 40 ms, second 1 only refuses connections, second 2 answers in 60 ms.
    const c = new Collector(0);
    for (const at of [100, 200, 1100, 1200, 2100, 2200]) c.markSent(at);
    c.response(200, 40, 140);
    c.response(200, 40, 240);
    c.error("ECONNREFUSED", 1100);
    c.error("ECONNREFUSED", 1200);
    c.response(200, 60, 2160);
    c.response(200, 60, 2260);
    const result = c.result({ url: "http://127.0.0.1:1/", mode: "open", offered_rps: 2, connections: 1 }, 3000);
    assert.equal(result.timeline[1]?.p50_ms, 0, "the timeline reads 0 for a second without a response (documented in types.ts)");

    const html = renderReport({ result, verdicts: [], command: "holdfast load http://127.0.0.1:1/", startedAt: new Date(0) });
    for (const name of ["p50", "p99"]) {
      const d = latencyPath(html, name);
      assert.equal(d.match(/M/g)?.length, 2, `${name}: two runs, broken at second 1 (${d})`);
      assert.equal(d.match(/[ML]/g)?.length, 2, `${name}: a point for second 0 and one for second 2 only (${d})`);
    }
  });
});
