import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { holdfastLine, nginxAccessLine, nginxErrorLine } from "../recorded-lines.js";
import { upstreamDown } from "./upstream-down.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("refused connections with no worker death: upstream down", () => {
  const access = [0, 1, 2].map((i) => nginxAccessLine({ t: t0 + i * 1000, status: 502, urt: null }));
  const error = [0, 1, 2].map((i) => nginxErrorLine(t0 + i * 1000, "connect-refused"));
  const [f] = runRule(upstreamDown, datasetFromLines({ access, error }));
  assert.equal(f?.explains, 3);
  assert.match(f?.evidence.summary ?? "", /127\.0\.0\.1:3000/);
});

test("error log only: failures are inferred from the error lines", () => {
  const error = [0, 1].map((i) => nginxErrorLine(t0 + i * 1000, "connect-refused"));
  const [f] = runRule(upstreamDown, datasetFromLines({ error }));
  assert.equal(f?.explains, 2);
});

test("a crash loop is named even without proxy logs", () => {
  const [f] = runRule(upstreamDown, datasetFromLines({ app: [holdfastLine(t0, "worker.crashloop", { crashes: 11 }, "fatal")] }));
  assert.match(f?.title ?? "", /crash loop/);
});
