/** `holdfast doctor` as a user runs it: exit codes, --json shape and ranking, --markdown, gzip, --since/--until, garbage counts. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import Database from "better-sqlite3";
import { nginxAccessLine } from "../src/doctor/recorded-lines.js";
import { tempDir } from "./fixtures/doctor/harness.js";
import { CLI } from "./support/holdfast-process.js";

const root = new URL("..", import.meta.url).pathname;
const F = join(root, "test/fixtures/doctor");

function doctor(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, "doctor", ...args], { cwd: root, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const ALL = [
  "--nginx-access-log",
  join(F, "nginx-access-upstream.log"),
  "--nginx-error-log",
  join(F, "nginx-error.log"),
  "--app-log",
  join(F, "app-holdfast.log"),
  "--app-log",
  join(F, "app-text.log"),
  "--nginx-config",
  join(F, "nginx.conf"),
  "--skip-system",
];

test("bad usage exits 2 with a message that names the problem", () => {
  const unknown = doctor("--frobnicate");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /frobnicate/);
  assert.equal(doctor("--yes").code, 2);
  const missing = doctor("--nginx-access-log", "/nonexistent/access.log");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file/);
  assert.match(doctor("--since", "last tuesday", "--skip-system").stderr, /ISO time/);
});

test("--help lists the inputs and exits 0", () => {
  const r = doctor("--help");
  assert.equal(r.code, 0);
  for (const flag of ["--nginx-access-log", "--haproxy-log", "--alb-log", "--app-log", "--admin", "--fix", "--json"]) assert.match(r.stdout, new RegExp(flag));
});

test("problems found: exit 1; --json findings are in chain order and carry the documented fields", () => {
  const r = doctor(...ALL, "--json");
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as { healthy: boolean; findings: Record<string, unknown>[]; files: { garbage: number }[] };
  assert.equal(report.healthy, false);
  assert.ok(report.findings.length >= 5);
  const ids = report.findings.map((f) => f.id as string);
  // Chain order: a finding never comes above a finding that produces it; roots that explain failures come first.
  report.findings.forEach((f, k) => {
    for (const cause of f.explainedBy as string[]) assert.ok(ids.indexOf(cause) < k, `${f.id} listed above its cause ${cause}`);
  });
  const roots = report.findings.filter((f) => (f.explainedBy as string[]).length === 0).map((f) => f.explains as number);
  const firstEmpty = roots.indexOf(0);
  assert.ok(firstEmpty === -1 || roots.slice(firstEmpty).every((n) => n === 0), `roots with failures first: ${roots}`);
  for (const f of report.findings) {
    for (const k of ["id", "title", "severity", "confidence", "explains", "evidence", "fix", "causes", "explainedBy", "links"])
      assert.ok(k in f, `finding lacks ${k}`);
    assert.ok(typeof f.confidence === "number" && f.confidence >= 0 && f.confidence <= 1);
    assert.ok(["critical", "error", "warning", "info"].includes(f.severity as string));
    const ev = f.evidence as { summary: string; samples: { file: string; line: number; text: string }[]; window?: { from: string } };
    assert.ok(ev.summary.length > 0);
    assert.ok(ev.samples.length <= 3);
    for (const s of ev.samples) assert.ok(s.file && s.line > 0 && s.text);
    if (ev.window) assert.match(ev.window.from, /^\d{4}-\d\d-\d\dT/);
    assert.ok((f.fix as { summary: string }).summary.length > 0);
  }
  assert.deepEqual(
    report.files.map((f) => f.garbage),
    [0, 0, 1, 0],
    "garbage lines are counted, not fatal (app-text.log's INFO line is a log event: it has a time and a level)",
  );
});

test("--markdown writes a report with a ranked table", () => {
  const r = doctor(...ALL, "--markdown");
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^# holdfast doctor report/);
  assert.match(r.stdout, /\| 1 \| /);
});

test("a healthy access log exits 0; a gzip ALB log is read; --since/--until filter by time", () => {
  const dir = tempDir("holdfast-doctor-cli-");
  const ok = join(dir, "access.log");
  const t0 = Date.UTC(2026, 10, 24, 14, 0, 0);
  writeFileSync(ok, `${Array.from({ length: 50 }, (_, i) => nginxAccessLine({ t: t0 + i * 1000, status: 200 }, true)).join("\n")}\n`);
  const healthy = doctor("--nginx-access-log", ok, "--skip-system");
  assert.equal(healthy.code, 0, healthy.stdout);
  assert.match(healthy.stdout, /No problem found/);

  const gz = join(dir, "alb.log.gz");
  writeFileSync(gz, gzipSync(readFileSync(join(F, "alb.log"))));
  const alb = JSON.parse(doctor("--alb-log", gz, "--skip-system", "--json").stdout) as {
    totals: { proxyRequests: number; failedRequests: number };
    findings: { id: string }[];
  };
  assert.deepEqual(alb.totals, { ...alb.totals, proxyRequests: 4, failedRequests: 3 });
  assert.ok(
    alb.findings.some((f) => f.id === "upstream-down"),
    "TargetConnectionError is a refused connection",
  );

  const windowed = JSON.parse(
    doctor("--nginx-access-log", ok, "--skip-system", "--json", "--since", "2026-11-24T14:00:10Z", "--until", "2026-11-24T14:00:20Z").stdout,
  ) as {
    totals: { proxyRequests: number };
    files: { outOfWindow: number }[];
  };
  assert.equal(windowed.totals.proxyRequests, 10);
  assert.equal(windowed.files[0]?.outOfWindow, 40);
});

test("--fix prints the plan and changes nothing; --fix --yes backs up, switches to WAL and writes the patch file", () => {
  const dir = tempDir("holdfast-doctor-cli-fix-");
  const dbPath = join(dir, "app.db");
  const db = new Database(dbPath);
  db.pragma("journal_mode = DELETE");
  db.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);");
  db.close();
  const patchFile = join(dir, "suggested.patch");
  const access = join(F, "nginx-access-upstream.log");
  const plan = doctor(
    "--db",
    `sqlite:${dbPath}`,
    "--nginx-access-log",
    access,
    "--nginx-error-log",
    join(F, "nginx-error.log"),
    "--skip-system",
    "--fix",
    "--patch-file",
    patchFile,
  );
  assert.equal(plan.code, 1);
  assert.match(plan.stdout, /Online backup of .*app\.db/);
  assert.match(plan.stdout, /journal_mode=WAL/);
  assert.match(plan.stdout, /Nothing was changed/);
  assert.equal(existsSync(patchFile), false);
  const check = new Database(dbPath, { readonly: true });
  assert.equal(check.pragma("journal_mode", { simple: true }), "delete");
  check.close();

  const yes = doctor(
    "--db",
    `sqlite:${dbPath}`,
    "--nginx-access-log",
    access,
    "--nginx-error-log",
    join(F, "nginx-error.log"),
    "--skip-system",
    "--fix",
    "--yes",
    "--patch-file",
    patchFile,
  );
  assert.match(yes.stdout, /done {2}Online backup of/);
  assert.match(yes.stdout, /journal_mode is now wal/);
  assert.ok(existsSync(patchFile), "config suggestions written for review");
  assert.match(readFileSync(patchFile, "utf8"), /## nginx config/);
  const after = new Database(dbPath, { readonly: true });
  assert.equal(after.pragma("journal_mode", { simple: true }), "wal");
  assert.equal((after.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n, 3);
  after.close();
});

test("recorded real nginx logs: the reset POST, the read timeout and the refused connect each get their cause", () => {
  const r = doctor(
    "--nginx-access-log",
    join(F, "recorded-nginx-access.log"),
    "--nginx-error-log",
    join(F, "recorded-nginx-error.log"),
    "--nginx-log-format",
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct=$upstream_connect_time urt=$upstream_response_time us=$upstream_status rid=$request_id',
    "--skip-system",
    "--json",
  );
  assert.equal(r.code, 1);
  const ids = (JSON.parse(r.stdout) as { findings: { id: string; explains: number }[] }).findings.map((f) => `${f.id}:${f.explains}`);
  for (const want of ["keepalive-race:1", "proxy-read-timeout:1", "upstream-down:1"]) assert.ok(ids.includes(want), `${want} not in ${ids.join(", ")}`);
});

test("a corrupt .gz and a directory are reported, never fatal; the lines read before still count", () => {
  const dir = tempDir("holdfast-doctor-cli-bad-");
  const gz = join(dir, "access.log.gz");
  const body = `${Array.from({ length: 2000 }, (_, i) => nginxAccessLine({ t: Date.UTC(2026, 10, 24, 14) + i * 1000, status: i % 100 === 0 ? 502 : 200 }, true)).join("\n")}\n`;
  const whole = gzipSync(Buffer.from(body));
  writeFileSync(gz, whole.subarray(0, Math.floor(whole.length * 0.6))); // cut short, as a log copied while being written
  const r = doctor("--nginx-access-log", gz, "--app-log", dir, "--skip-system", "--json");
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as { totals: { proxyRequests: number }; findings: { id: string; evidence: { summary: string } }[] };
  assert.ok(report.totals.proxyRequests > 0, "lines before the damage are counted");
  const unreadable = report.findings.filter((f) => f.id === "log-unreadable");
  assert.equal(unreadable.length, 2, JSON.stringify(report.findings.map((f) => f.id)));
});

test("--nginx-config that is a directory, or far too large to be a config, is refused with a message, not a stack or an out-of-memory crash", () => {
  const dir = tempDir("hf-doctor-cfg-");
  const asDir = doctor("--nginx-config", dir, "--skip-system");
  assert.equal(asDir.code, 2, asDir.stderr);
  assert.match(asDir.stderr, /--nginx-config .* is a directory\. Give one file: for nginx, `nginx -T > nginx-full\.conf`/);
  assert.doesNotMatch(asDir.stderr, /This is a bug|at .*\.ts:\d+/);
  // Sparse, so the test writes nothing to disk; the doctor must refuse it before reading 250 MB.
  const huge = join(dir, "huge.conf");
  const fd = openSync(huge, "w");
  ftruncateSync(fd, 250 * 1024 * 1024);
  closeSync(fd);
  const big = doctor("--haproxy-config", huge, "--skip-system");
  assert.equal(big.code, 2, big.stderr);
  assert.match(big.stderr, /--haproxy-config .*huge\.conf is 262144000 bytes; a proxy config is far smaller \(the doctor reads at most 16 MB\)/);
});

test("terminal escape sequences in log lines are printed escaped in the text and Markdown reports", () => {
  const dir = tempDir("hf-doctor-esc-");
  const log = join(dir, "error.log");
  const evil = "/\u001b]0;owned\u0007\u001b[2J\u009b31m\u202e";
  const lines = Array.from(
    { length: 6 },
    (_, i) =>
      `2026/11/24 14:03:0${i} [error] 32#32: *19${i}0 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.3.20, server: shop.example.com, request: "GET ${evil} HTTP/1.1", upstream: "http://127.0.0.1:3000${evil}", host: "shop.example.com"`,
  );
  writeFileSync(log, `${lines.join("\n")}\n`);
  for (const format of [[], ["--markdown"]]) {
    const r = doctor("--nginx-error-log", log, "--skip-system", ...format);
    assert.match(r.stdout, /\\x1b\]0;owned\\x07\\x1b\[2J\\x9b31m\\u202e/, r.stdout);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the assertion is that none of these reach the terminal.
    assert.doesNotMatch(r.stdout, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
  }
  // JSON keeps the line exactly (JSON escapes control characters itself).
  const json = JSON.parse(doctor("--nginx-error-log", log, "--skip-system", "--json").stdout) as {
    findings: Array<{ evidence: { samples: Array<{ text: string }> } }>;
  };
  assert.ok(json.findings.some((f) => f.evidence.samples.some((s) => s.text.includes(evil))));
});
