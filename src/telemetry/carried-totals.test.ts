// The supervisor's memory of exited workers: counters and histograms add up per label set, gauges are dropped.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CarriedTotals } from "./carried-totals.js";
import { aggregateMetrics, type MetricsSnapshot, promClient, WorkerMetrics } from "./metrics.js";

async function workerSnapshot(requests: number, sheds: number): Promise<MetricsSnapshot> {
  const m = new WorkerMetrics({ registry: new promClient.Registry() });
  for (let i = 0; i < requests; i++) m.duration.observe("GET", 200, 0.003);
  m.shed.inc({ reason: "limit" }, sheds);
  m.activeRequests = () => 7;
  return m.snapshot();
}

test("carried totals sum counters and histogram series of exited workers and drop their gauges", async () => {
  const carried = new CarriedTotals();
  carried.add(await workerSnapshot(3, 1));
  carried.add(await workerSnapshot(4, 2));
  const live = await workerSnapshot(5, 0);
  const text = await aggregateMetrics([carried.snapshot(), live], new promClient.Registry());
  assert.match(text, /http_server_request_duration_seconds_count\{http_request_method="GET",http_response_status_code="200"\} 12/);
  assert.match(text, /http_server_request_duration_seconds_bucket\{http_request_method="GET",http_response_status_code="200",le="0.005"\} 12/);
  assert.match(text, /holdfast_shed_requests_total\{reason="limit"\} 3/);
  // Only the live worker's in-flight gauge: a dead process has nothing in flight.
  assert.match(text, /http_server_active_requests 7/);
});

test("status counters grow by the increase and never go down when their source restarts", async () => {
  const m = new WorkerMetrics({ registry: new promClient.Registry() });
  let hits = 5;
  m.addStatusCounters(() => ({ hits }), [["test_hits_total", "Hits.", (s) => s.hits]]);
  const read = async () => Number(/test_hits_total (\d+)/.exec(await m.registry.metrics())?.[1]);
  assert.equal(await read(), 5);
  hits = 9;
  assert.equal(await read(), 9);
  hits = 2; // the source was reopened: 2 new hits
  assert.equal(await read(), 11);
});

test("one status read serves every gauge and counter of a scrape; the next scrape reads afresh", async () => {
  const m = new WorkerMetrics({ registry: new promClient.Registry() });
  let reads = 0;
  let size = 3;
  const status = () => {
    reads++;
    return { size, hits: size * 2 };
  };
  m.addStatusGauges(status, [
    ["test_size", "Size.", (s) => s.size],
    ["test_size_twice", "Size again.", (s) => s.size * 2],
  ]);
  m.addStatusCounters(status, [["test_hits_total", "Hits.", (s) => s.hits]]);
  const first = await m.registry.metrics();
  assert.equal(reads, 1, "three metrics, one read");
  assert.match(first, /test_size 3/);
  size = 5;
  const json = await m.registry.getMetricsAsJSON();
  assert.equal(reads, 2);
  assert.equal(json.find((x) => x.name === "test_size")?.values[0]?.value, 5);
  assert.match(await m.registry.metrics(), /test_hits_total 10/);
});
