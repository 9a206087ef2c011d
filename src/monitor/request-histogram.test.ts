import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePrometheusText } from "./prometheus-text.js";
import { countStatus, diffHistograms, extractRequestHistogram, quantileMs, sumDeltas } from "./request-histogram.js";

const LE = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "+Inf"];

/** Exposition text as the admin endpoint serves it, from cumulative bucket counts per status. */
function text(series: Record<string, number[]>): string {
  const lines = [
    "# HELP http_server_request_duration_seconds Duration.",
    "# TYPE http_server_request_duration_seconds histogram",
    'holdfast_workers{phase="ready"} 2',
  ];
  for (const [status, cum] of Object.entries(series)) {
    const l = `http_request_method="GET",http_response_status_code="${status}"`;
    for (const [i, le] of LE.entries()) lines.push(`http_server_request_duration_seconds_bucket{${l},le="${le}"} ${cum[i]}`);
    lines.push(`http_server_request_duration_seconds_sum{${l}} 1.5`, `http_server_request_duration_seconds_count{${l}} ${cum.at(-1)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Cumulative counts with `n` requests all in bucket `i` (plus `base` everywhere). */
function cum(i: number, n: number, base = 0): number[] {
  return LE.map((_, j) => base + (j >= i ? n : 0));
}

describe("Prometheus text and the request histogram", () => {
  it("parses labels (with escapes), +Inf and skips comments", () => {
    const s = parsePrometheusText('a{x="1",y="q\\"uote"} 3\n# c\nb +Inf\nbad line here\n');
    assert.deepEqual(s[0], { name: "a", labels: { x: "1", y: 'q"uote' }, value: 3 });
    assert.equal(s[1].value, Number.POSITIVE_INFINITY);
    assert.equal(s.length, 2);
  });

  it("turns two scrapes into requests by status and latency quantiles of the interval only", () => {
    const before = extractRequestHistogram(parsePrometheusText(text({ "200": cum(0, 1000) })));
    // Interval: 90 fast 200s (≤5 ms), 10 500s between 2.5 s and 5 s.
    const after = extractRequestHistogram(parsePrometheusText(text({ "200": cum(0, 1090), "500": cum(9, 10) })));
    const d = diffHistograms(before, after);
    assert.equal(d.requests, 100);
    assert.equal(countStatus(d, "5"), 10);
    assert.equal(countStatus(d, "503"), 0);
    assert.ok((quantileMs(d, 0.5) ?? 0) <= 5, "p50 in the first bucket");
    const p99 = quantileMs(d, 0.99) ?? 0;
    assert.ok(p99 > 2500 && p99 <= 5000, `p99 ${p99} interpolated inside (2.5 s, 5 s]`);
  });

  it("treats a count that went down as a reset (worker gone), taking the current value as the increase", () => {
    const before = extractRequestHistogram(parsePrometheusText(text({ "200": cum(0, 500) })));
    const after = extractRequestHistogram(parsePrometheusText(text({ "200": cum(0, 30) })));
    assert.equal(diffHistograms(before, after).requests, 30);
  });

  it("reports a quantile in the +Inf bucket as the largest finite bound, and none without requests", () => {
    const d = diffHistograms(undefined, extractRequestHistogram(parsePrometheusText(text({ "504": cum(13, 5) }))));
    assert.equal(quantileMs(d, 0.99), 60_000);
    assert.equal(quantileMs(sumDeltas([]), 0.99), undefined);
  });

  it("sums deltas across instances", () => {
    const a = diffHistograms(undefined, extractRequestHistogram(parsePrometheusText(text({ "200": cum(0, 10) }))));
    const b = diffHistograms(undefined, extractRequestHistogram(parsePrometheusText(text({ "503": cum(0, 10) }))));
    const s = sumDeltas([a, b]);
    assert.equal(s.requests, 20);
    assert.equal(countStatus(s, "503"), 10);
    assert.equal(s.buckets[0], 20);
  });
});
