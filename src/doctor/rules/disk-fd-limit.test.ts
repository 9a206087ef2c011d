import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { nginxErrorLine } from "../recorded-lines.js";
import { diskFdLimit } from "./disk-fd-limit.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("EMFILE in the app log and a nearly full disk", () => {
  const app = ["2026-11-24T14:02:09Z Error: EMFILE: too many open files, open '/srv/app/tmp/upload-1'"];
  const system = {
    load: [0, 0, 0],
    cpus: 2,
    memTotal: 1,
    memAvailable: 1,
    disks: [{ path: "/srv", freeBytes: 10 * 1024 * 1024, totalBytes: 100 * 1024 ** 3 }],
  };
  const ids = runRule(diskFdLimit, datasetFromLines({ app, error: [nginxErrorLine(t0, "disk-full")], probes: { system } })).map((f) => f.id);
  assert.deepEqual(ids, ["fd-limit", "disk-full"]);
});

test("a healthy host gives nothing", () => {
  const system = {
    load: [0, 0, 0],
    cpus: 2,
    memTotal: 1,
    memAvailable: 1,
    disks: [{ path: "/", freeBytes: 50e9, totalBytes: 100e9 }],
    fds: { open: 100, limit: 100_000 },
  };
  assert.deepEqual(runRule(diskFdLimit, datasetFromLines({ probes: { system } })), []);
});

test("a worker at 95 % of its own descriptor limit", () => {
  const system = { load: [0, 0, 0], cpus: 2, memTotal: 1, memAvailable: 1, disks: [], processFds: [{ pid: 4121, open: 973, limit: 1024 }] };
  const [f] = runRule(diskFdLimit, datasetFromLines({ probes: { system } }));
  assert.match(f?.evidence.summary ?? "", /973 of 1024 descriptors in use by pid 4121/);
});
