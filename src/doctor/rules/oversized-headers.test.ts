import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { nginxAccessLine, nginxErrorLine } from "../recorded-lines.js";
import { oversizedHeaders } from "./oversized-headers.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("'upstream sent too big header' → proxy_buffer_size fix", () => {
  const access = [nginxAccessLine({ t: t0, status: 502, path: "/login", urt: 0.01 })];
  const error = [nginxErrorLine(t0, "header-too-big", "GET", "/login")];
  const [f] = runRule(oversizedHeaders, datasetFromLines({ access, error }));
  assert.equal(f?.explains, 1);
  assert.match(f?.fix.nginx ?? "", /proxy_buffer_size 16k/);
});
