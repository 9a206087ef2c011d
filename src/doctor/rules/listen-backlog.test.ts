import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { nginxAccessLine, nginxErrorLine } from "../recorded-lines.js";
import { listenBacklog } from "./listen-backlog.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("EAGAIN on the unix socket and overflows counted by the kernel", () => {
  const access = [nginxAccessLine({ t: t0, status: 502, urt: null })];
  const error = [nginxErrorLine(t0, "connect-eagain")];
  const system = { load: [1, 1, 1], cpus: 2, memTotal: 1, memAvailable: 1, disks: [], listenOverflows: 12, somaxconn: 128 };
  const [f] = runRule(listenBacklog, datasetFromLines({ access, error, probes: { system } }));
  assert.equal(f?.explains, 1);
  assert.equal(f?.confidence, 0.85);
  assert.match(f?.evidence.summary ?? "", /somaxconn 128/);
});
