import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Collector } from "./collector.js";
import { evaluateSlo, parseSlo, percentilesNeeded } from "./slo.js";

function result() {
  const c = new Collector();
  for (let i = 0; i < 90; i++) c.response(200, 10);
  for (let i = 0; i < 8; i++) c.response(503, 1);
  c.response(502, 900);
  c.error("ECONNRESET");
  c.sent = 100;
  return c.result({ url: "http://x", mode: "open", offered_rps: 100, connections: 10 }, 1000, [97.5]);
}

describe("SLO verdicts", () => {
  it("parses latency, share, count and rate terms; thresholds kept in the unit they are shown in", () => {
    const t = parseSlo("p99<500ms, error-rate<1%,5xx<=0.1,goodput>50,p99_2xx<1s,502<0.5%,p95<300,p97.5<2s,lock-timeouts==0,loop-lag-p99<50ms");
    assert.deepEqual(
      t.map((x) => [x.metric, x.op, x.value, x.unit, x.source]),
      [
        ["p99", "<", 500, "ms", "client"],
        ["error-rate", "<", 1, "%", "client"],
        ["5xx", "<=", 10, "%", "client"],
        ["goodput", ">", 50, "req/s", "client"],
        ["p99_2xx", "<", 1000, "ms", "client"],
        ["502", "<", 0.5, "%", "client"],
        ["p95", "<", 300, "ms", "client"],
        ["p97.5", "<", 2000, "ms", "client"],
        ["lock-timeouts", "==", 0, "count", "server"],
        ["loop-lag-p99", "<", 50, "ms", "server"],
      ],
    );
    assert.deepEqual(percentilesNeeded(t), [97.5]);
  });

  it("expands the post-mortem preset (seed, alias postmortem)", () => {
    const want = ["502<1%", "p99<5s", "pool.utilization<80%", "lock-timeouts==0", "worker.restarts==0"];
    assert.deepEqual(
      parseSlo("seed").map((x) => x.text),
      want,
    );
    assert.deepEqual(
      parseSlo("postmortem,p95<1s").map((x) => x.text),
      [...want, "p95<1s"],
    );
  });

  it("rejects unknown metrics and wrong units by name", () => {
    assert.throws(() => parseSlo("latency<5ms"), /unknown metric "latency"/);
    assert.throws(() => parseSlo("p99<5%"), /latency needs ms or s/);
    assert.throws(() => parseSlo("p99 500"), /not of the form/);
    assert.throws(() => parseSlo("lock-timeouts<1%"), /is a count/);
  });

  it("error-rate counts 5xx and connection errors of all requests sent, in percent", () => {
    const v = evaluateSlo(result(), parseSlo("5xx<10%,5xx<5%,error-rate<11%,error-rate<10%,conn-errors<2%,502<=1%,goodput>=90,p99_2xx<20ms,p97.5<1s"));
    assert.deepEqual(
      v.map((x) => x.ok),
      [true, false, true, false, true, true, true, true, true],
    );
    assert.equal(v[0]?.actual, 9);
    assert.equal(v[2]?.actual, 10);
    assert.equal(v[2]?.unit, "%");
    assert.match(v[2]?.detail ?? "", /9 5xx \+ 1 connection errors\/timeouts of all 100 requests sent/);
  });

  it("a server-side term without samples fails as not measured rather than passing", () => {
    const [v] = evaluateSlo(result(), parseSlo("worker.restarts==0"));
    assert.equal(v?.ok, false);
    assert.equal(v?.actual, null);
  });
});
