/** Parser tests on recorded lines (test/fixtures/doctor). */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parseAlbLine } from "./alb.js";
import { parseAppLine } from "./app-log.js";
import { parseHaproxyLine } from "./haproxy.js";
import { COMBINED_FORMAT, compileFormat, nginxAccessReader } from "./nginx-access.js";
import { parseNginxErrorLine } from "./nginx-error.js";
import { parseClfTime } from "./reader.js";

const fixture = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/doctor/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((l) => l.length > 0);
const UPSTREAM_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct=$upstream_connect_time urt=$upstream_response_time us=$upstream_status rid=$request_id';

test("CLF times with zone and milliseconds become epoch ms", () => {
  assert.equal(parseClfTime("24/Nov/2026:14:02:03 +0000"), Date.UTC(2026, 10, 24, 14, 2, 3));
  assert.equal(parseClfTime("24/Nov/2026:16:02:03 +0200"), Date.UTC(2026, 10, 24, 14, 2, 3));
  assert.equal(parseClfTime("24/Nov/2026:14:02:03.481"), Date.UTC(2026, 10, 24, 14, 2, 3, 481));
  assert.ok(Number.isNaN(parseClfTime("24/Foo/2026:14:02:03 +0000")));
});

test("nginx combined lines: status, method, path; the truncated line is garbage", () => {
  const r = nginxAccessReader();
  const lines = fixture("nginx-access-combined.log");
  const recs = lines.map((l) => r.parse(l));
  assert.equal(recs[1]?.status, 502);
  assert.equal(recs[1]?.method, "POST");
  assert.equal(recs[0]?.path, "/api/orders");
  assert.equal(recs[1]?.time, Date.UTC(2026, 10, 24, 14, 2, 3));
  assert.equal(recs[4], null, "truncated line");
  assert.equal(recs[5]?.status, 400);
});

test("nginx format with $upstream_status / $upstream_response_time / $request_time / $request_id", () => {
  const r = nginxAccessReader(UPSTREAM_FORMAT);
  const [a, , c, d, e] = fixture("nginx-access-upstream.log").map((l) => r.parse(l));
  assert.equal(a?.requestId, "4f9c2a7d1e0b4c7e9a51c3d2b8e6f017");
  assert.equal(a?.upstreamTime, 0.001);
  assert.equal(a?.requestTime, 0.002);
  assert.equal(c?.upstreamTime, 60);
  assert.equal(d?.connectTime, -1, "never connected");
  assert.equal(e?.upstreamStatus, "502, 200", "retried on the next upstream");
  assert.equal(e?.upstreamTime, 0.07, "the last try counts");
});

test("the status fast path agrees with the full parse and reads nothing past the line", () => {
  const fmt = compileFormat(COMBINED_FORMAT);
  const lines = fixture("nginx-access-combined.log");
  const text = `${lines.join("\n")}\n`;
  let pos = 0;
  const got: number[] = [];
  for (const l of lines) {
    got.push(fmt.status(text, pos, pos + l.length));
    pos += l.length + 1;
  }
  assert.deepEqual(got, [200, 502, 200, 504, -1, 400]);
});

test("nginx error lines are classified by what failed", () => {
  const kinds = fixture("nginx-error.log").map((l) => parseNginxErrorLine(l)?.kind);
  assert.deepEqual(kinds, [
    "upstream-closed",
    "read-timeout",
    "connect-refused",
    "upstream-reset",
    "no-live-upstreams",
    "header-too-big",
    "fd-limit",
    "disk-full",
    "connect-eagain",
    "other",
  ]);
  const r = parseNginxErrorLine(fixture("nginx-error.log")[0] as string);
  assert.equal(r?.request, "POST /api/checkout HTTP/1.1");
  assert.equal(r?.upstream, "http://127.0.0.1:3000/api/checkout");
  assert.equal(r?.phase, "reading response header");
});

test("HAProxy lines: termination state, timers, status; the DOWN alert is not a request", () => {
  const recs = fixture("haproxy.log").map((l) => parseHaproxyLine(l));
  assert.equal(recs[0]?.termState, "SH--");
  assert.equal(recs[0]?.upstreamTime, -1);
  assert.equal(recs[0]?.status, 502);
  assert.equal(recs[2]?.termState, "sH--");
  assert.equal(recs[2]?.requestTime, 30.001);
  assert.equal(recs[3]?.termState, "SC--");
  assert.equal(recs[4]?.upstream, "app/<NOSRV>");
  assert.equal(recs[5]?.termState, "sQ--");
  assert.equal(recs[6], null);
  assert.equal(recs[0]?.time, Date.UTC(2026, 10, 24, 14, 2, 3, 481));
});

test("ALB lines: elb and target status, error_reason, trace id", () => {
  const recs = fixture("alb.log").map((l) => parseAlbLine(l));
  assert.equal(recs[0]?.status, 502);
  assert.equal(recs[0]?.upstreamStatus, undefined);
  assert.equal(recs[0]?.upstreamTime, -1);
  assert.equal(recs[0]?.path, "/api/checkout");
  assert.equal(recs[1]?.upstreamStatus, "200");
  assert.equal(recs[2]?.errorReason, "TargetConnectionError");
  assert.equal(recs[0]?.requestId, "Root=1-6743a2b3-36d228ad5d99923122bbe354");
});

test("holdfast JSON lines keep their event and fields; unknown events stay generic", () => {
  const recs = fixture("app-holdfast.log").map((l) => parseAppLine(l));
  assert.equal(recs[2]?.event, "worker.timeout");
  assert.equal(recs[2]?.fields.workerPid, 4121);
  assert.equal(recs[2]?.time, Date.parse("2026-11-24T14:02:03.123Z"));
  assert.equal(recs[11]?.event, "some.future.event");
  assert.equal(recs[12]?.event, "pool.timeout", "a pino line from another app, numeric level, epoch time");
  assert.equal(recs[12]?.level, "warn");
  assert.equal(recs[13], null);
});

test("plain-text lines from gunicorn, SQLite, knex, pg, PostgreSQL and Node map to holdfast events", () => {
  const recs = fixture("app-text.log").map((l) => parseAppLine(l));
  assert.deepEqual(
    recs.map((r) => r?.event ?? null),
    [
      "worker.timeout",
      "worker.exit",
      "worker.start",
      "db.locked",
      "pool.timeout",
      "pool.timeout",
      "db.too-many-clients",
      "memory.oom",
      "fd.limit",
      "disk.full",
      "log",
    ],
  );
  assert.equal(recs[0]?.fields.workerPid, 4121);
  assert.equal(recs[0]?.pid, 4100);
  assert.equal(recs[1]?.fields.signal, "SIGKILL");
  assert.equal(recs[0]?.time, Date.UTC(2026, 10, 24, 14, 2, 3));
  assert.equal(recs[4]?.origin, "knex");
  assert.equal(recs[5]?.origin, "pg");
  assert.equal(recs[10]?.path, "/api/orders", "a timed line with a level is a log event, with the request it names");
});

test("lines recorded from a real nginx 1.22 and HAProxy 2.6 (test/fixtures/doctor/recorded-*)", async () => {
  const { UPSTREAM_TIMING_FORMAT } = await import("../recorded-lines.js");
  const access = fixture("recorded-nginx-access.log").map((l) => nginxAccessReader(UPSTREAM_TIMING_FORMAT).parse(l));
  assert.deepEqual(
    access.map((r) => r?.status),
    [200, 504, 200, 502, 200, 502],
  );
  assert.equal(access[1]?.upstreamTime, 1.001);
  assert.equal(access[5]?.connectTime, -1, "uct=- : never connected");
  const errors = fixture("recorded-nginx-error.log").map((l) => parseNginxErrorLine(l)?.kind);
  assert.deepEqual(errors, ["read-timeout", "upstream-reset", "connect-refused"]);
  const hap = fixture("recorded-haproxy.log").map((l) => parseHaproxyLine(l));
  assert.deepEqual(
    hap.map((r) => (r ? `${r.status} ${r.termState}` : null)),
    ["400 CR--", "200 ----", "504 sH--", null, null, null, "400 CR--", "503 SC--", null, null, null],
  );
});

test("HAProxy: a captured X-Request-Id header becomes the request id", () => {
  const r = parseHaproxyLine(
    'Nov 24 14:02:03 lb1 haproxy[2201]: 10.0.3.17:51234 [24/Nov/2026:14:02:03.481] www~ app/app1 0/0/0/5000/5001 503 209 - - ---- 12/12/3/1/0 0/0 {4f9c2a7d1e0b4c7e9a51c3d2b8e6f017|shop.example.com} "GET /api/orders HTTP/1.1"',
  );
  assert.equal(r?.requestId, "4f9c2a7d1e0b4c7e9a51c3d2b8e6f017");
  assert.equal(r?.path, "/api/orders");
});
