import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { nginxErrorLine } from "../recorded-lines.js";
import { allUpstreamsDown } from "./all-upstreams-down.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("'no live upstreams' and HAProxy <NOSRV>", () => {
  const error = [nginxErrorLine(t0, "no-live-upstreams")];
  assert.equal(runRule(allUpstreamsDown, datasetFromLines({ error }))[0]?.explains, 1);
  const haproxy = [
    'Nov 24 14:03:11 lb1 haproxy[2201]: 10.0.3.22:51410 [24/Nov/2026:14:03:11.000] www~ app/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 9/9/0/0/0 0/0 "GET /api/orders HTTP/1.1"',
  ];
  assert.equal(runRule(allUpstreamsDown, datasetFromLines({ haproxy }))[0]?.explains, 1);
});

test("the failures that marked the servers down come first, 'no live upstreams' under them", async () => {
  const { analyze } = await import("../analyze.js");
  const { nginxAccessLine, nginxErrorLine } = await import("../recorded-lines.js");
  const t = Date.UTC(2026, 10, 24, 14, 2, 0);
  const access: string[] = [];
  const error: string[] = [];
  for (let i = 0; i < 3; i++) {
    access.push(nginxAccessLine({ t: t + i * 300, status: 502, urt: null }));
    error.push(nginxErrorLine(t + i * 300, "connect-refused"));
  }
  for (let i = 0; i < 10; i++) {
    access.push(nginxAccessLine({ t: t + 2000 + i * 200, status: 502, urt: null }));
    error.push(nginxErrorLine(t + 2000 + i * 200, "no-live-upstreams"));
  }
  const findings = analyze(datasetFromLines({ access, error }));
  assert.deepEqual(
    findings.slice(0, 2).map((f) => [f.id, f.causes]),
    [
      ["upstream-down", ["all-upstreams-down"]],
      ["all-upstreams-down", []],
    ],
  );
  assert.match(findings[0]?.links?.[0]?.evidence ?? "", /marked the servers down/);
});

test("HAProxy's 'Server app/app1 is DOWN' alert is quoted as what marked the server, not reported as unreadable", () => {
  const haproxy = [
    'Server app/app1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 0 backup servers left.',
    "backend app has no server available!",
    'Nov 24 14:03:11 lb1 haproxy[2201]: 10.0.3.22:51410 [24/Nov/2026:14:03:11.000] www~ app/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 9/9/0/0/0 0/0 "GET /api/orders HTTP/1.1"',
  ];
  const data = datasetFromLines({ haproxy });
  assert.equal(data.files[0]?.garbage, 0);
  assert.equal(data.files[0]?.notices, 2);
  const [f] = runRule(allUpstreamsDown, data);
  assert.match(f?.evidence.samples.map((s) => s.text).join("\n") ?? "", /is DOWN, reason: Layer4 connection problem/);
  assert.doesNotMatch(f?.evidence.summary ?? "", /causes below/);
});
