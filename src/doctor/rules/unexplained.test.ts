import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { nginxAccessLine, nginxErrorLine } from "../recorded-lines.js";
import { serverZone } from "./unexplained.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);
/** The doctor's own UTC offset at t0, minutes: the shift is measured against it. */
const own = -new Date(t0).getTimezoneOffset();

test("the writer's zone is the doctor's minus the shift; Etc/GMT inverts the sign", () => {
  // Read 3 h too early: written at UTC−3 (São Paulo's -0300).
  const behind = serverZone((own + 180) * 60_000, t0);
  assert.equal(behind.offsetMinutes, -180);
  assert.equal(behind.utc, "UTC−03:00");
  assert.match(behind.advice, /TZ=Etc\/GMT\+3 holdfast doctor/);
  const ahead = serverZone((own - 540) * 60_000, t0);
  assert.match(ahead.advice, /TZ=Etc\/GMT-9 /);
  assert.equal(ahead.utc, "UTC+09:00");
});

test("a half-hour zone has no Etc/ name: the server's own zone name is asked for", () => {
  const z = serverZone((own - 330) * 60_000, t0);
  assert.equal(z.utc, "UTC+05:30");
  assert.doesNotMatch(z.advice, /Etc\/GMT/);
  assert.match(z.advice, /server's own zone name/);
});

test("error-log-clock states the measured offset and never a zone unrelated to the logs", () => {
  const access: string[] = [];
  const error: string[] = [];
  for (let i = 0; i < 4; i++) {
    const t = t0 + i * 60_000;
    access.push(nginxAccessLine({ t, status: 502, urt: null, path: "/api/orders" }));
    // The server was 3 h behind UTC (further behind than the doctor's own zone by 3 h).
    error.push(nginxErrorLine(t - 3 * 3_600_000, "connect-refused", "GET", "/api/orders"));
  }
  const f = analyze(datasetFromLines({ access, error })).find((x) => x.id === "error-log-clock");
  assert.ok(f, "the shift is reported");
  assert.match(f.evidence.summary, /behind the access log by 3 h/);
  assert.doesNotMatch(f.fix.summary, /Berlin/);
  if (own === 0) assert.match(f.fix.summary, /TZ=Etc\/GMT\+3 /);
  assert.equal(f.evidence.counts.serverUtcOffsetMinutes, own - 180);
});

test("a probe that failed now, after logs from days ago, says it is about this host now and nothing about the incident", () => {
  const data = datasetFromLines({ access: [nginxAccessLine({ t: t0, status: 502 })] });
  data.probes.errors.push({ probe: "sqlite", message: "There is no SQLite database at ./data/app.db.", at: t0 + 3 * 86_400_000 });
  const f = analyze(data).find((x) => x.id === "probe-failed/sqlite");
  assert.match(f?.title ?? "", /could not run now \(probed at/);
  assert.match(f?.evidence.summary ?? "", /not evidence about the incident/);
  assert.match(f?.fix.summary ?? "", /Nothing to do for this report/);
});
