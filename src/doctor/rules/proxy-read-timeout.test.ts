import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { nginxAccessLine, nginxErrorLine } from "../recorded-lines.js";
import { proxyReadTimeout } from "./proxy-read-timeout.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("504s after 'upstream timed out while reading response header': read timeout, fix keeps deadline below it", () => {
  const access = [0, 1].map((i) => nginxAccessLine({ t: t0 + i * 2000 + 30_000, status: 504, path: "/api/report", urt: 30, rt: 30 }));
  const error = [0, 1].map((i) => nginxErrorLine(t0 + i * 2000 + 30_000, "read-timeout", "GET", "/api/report"));
  const [f] = runRule(proxyReadTimeout, datasetFromLines({ access, error, timeouts: { proxyReadTimeout: 30_000, deadline: 30_000 } }));
  assert.equal(f?.explains, 2);
  assert.match(f?.evidence.summary ?? "", /\/api\/report/);
  assert.match(f?.evidence.summary ?? "", /not below it/);
  assert.match(f?.fix.holdfast ?? "", /deadline: "27s"/);
});

test("without an error log a 504 whose upstream time reached the read timeout is still read as one", () => {
  const access = [nginxAccessLine({ t: t0, status: 504, urt: 60, rt: 60 })];
  assert.equal(runRule(proxyReadTimeout, datasetFromLines({ access }))[0]?.explains, 1);
});
