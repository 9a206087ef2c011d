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
  const haproxy = ['Nov 24 14:03:11 lb1 haproxy[2201]: 10.0.3.22:51410 [24/Nov/2026:14:03:11.000] www~ app/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 9/9/0/0/0 0/0 "GET /api/orders HTTP/1.1"'];
  assert.equal(runRule(allUpstreamsDown, datasetFromLines({ haproxy }))[0]?.explains, 1);
});
