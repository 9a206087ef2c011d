import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Collector } from "./collector.js";
import { evaluateSlo, parseSlo } from "./slo.js";

function result() {
  const c = new Collector();
  for (let i = 0; i < 90; i++) c.response(200, 10);
  for (let i = 0; i < 8; i++) c.response(503, 1);
  c.response(502, 900);
  c.error("ECONNRESET");
  c.sent = 100;
  return c.result({ url: "http://x", mode: "open", offered_rps: 100, connections: 10 }, 1000);
}

describe("SLO verdicts", () => {
  it("parses latency, share and rate terms with units", () => {
    const t = parseSlo("p99<500ms, error-rate<1%,5xx<=0.1,goodput>50,p99_2xx<1s,502<0.5%");
    assert.deepEqual(
      t.map((x) => [x.metric, x.op, x.value]),
      [
        ["p99", "<", 500],
        ["error-rate", "<", 0.01],
        ["5xx", "<=", 0.1],
        ["goodput", ">", 50],
        ["p99_2xx", "<", 1000],
        ["502", "<", 0.005],
      ],
    );
  });

  it("rejects unknown metrics and wrong units by name", () => {
    assert.throws(() => parseSlo("latency<5ms"), /unknown metric "latency"/);
    assert.throws(() => parseSlo("p99<5%"), /latency needs ms or s/);
    assert.throws(() => parseSlo("p99 500"), /not of the form/);
  });

  it("judges a result: 5xx share, error rate, a single status code, goodput, 2xx latency", () => {
    const v = evaluateSlo(result(), parseSlo("5xx<10%,5xx<5%,error-rate<2%,error-rate<1%,502<=1%,goodput>=90,p99_2xx<20ms"));
    assert.deepEqual(
      v.map((x) => x.ok),
      [true, false, true, false, true, true, true],
    );
    assert.equal(v[0]?.actual, 0.09);
  });
});
