// The generated proxy configs are accepted by the real nginx and HAProxy, and agree with holdfast's timeouts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CLI } from "./support/holdfast-process.js";
import { requireBinary } from "./support/require-service.js";

function gen(kind: string, env: Record<string, string> = {}) {
  const cwd = mkdtempSync(join(tmpdir(), "hf-proxycfg-"));
  return spawnSync(process.execPath, [CLI, "proxy-config", kind, "--upstream", "127.0.0.1:3001", "--upstream", "127.0.0.1:3002", "--listen", "8080"], { cwd, env: { ...process.env, ...env }, encoding: "utf8" });
}

test("nginx accepts the generated config, whose timeouts agree with holdfast's", (t) => {
  const nginx = requireBinary(t, "nginx", ["/usr/sbin/nginx"]);
  if (!nginx) return;
  const r = gen("nginx", { HOLDFAST_TIMEOUTS_DEADLINE: "20s" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /keepalive_timeout 60s;/);
  assert.match(r.stdout, /proxy_read_timeout 25s;/);
  assert.match(r.stdout, /server 127\.0\.0\.1:3002/);
  assert.equal(r.stderr, "", "no budget warnings");
  const dir = mkdtempSync(join(tmpdir(), "hf-nginx-"));
  mkdirSync(join(dir, "logs"));
  writeFileSync(join(dir, "holdfast.conf"), r.stdout.replaceAll("/var/log/nginx/", `${dir}/logs/`));
  writeFileSync(join(dir, "nginx.conf"), `error_log ${dir}/logs/error.log;\npid ${dir}/nginx.pid;\nevents {}\nhttp {\n  include ${dir}/holdfast.conf;\n}\n`);
  const check = spawnSync(nginx, ["-t", "-p", dir, "-c", join(dir, "nginx.conf")], { encoding: "utf8" });
  assert.equal(check.status, 0, check.stderr);
});

test("HAProxy accepts the generated config", (t) => {
  const haproxy = requireBinary(t, "haproxy", ["/usr/sbin/haproxy"]);
  if (!haproxy) return;
  const r = gen("haproxy");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /timeout server 36s/);
  const dir = mkdtempSync(join(tmpdir(), "hf-haproxy-"));
  writeFileSync(join(dir, "haproxy.cfg"), `global\n    log stdout format raw local0\n${r.stdout}`);
  const check = spawnSync(haproxy, ["-c", "-f", join(dir, "haproxy.cfg")], { encoding: "utf8" });
  assert.equal(check.status, 0, check.stdout + check.stderr);
});

test("proxy-config refuses a missing proxy kind and a malformed upstream", () => {
  const r = gen("apache");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Say which proxy/);
});

test("proxy-config refuses an out-of-range port and a server name that would inject directives, writing nothing", () => {
  const cwd = mkdtempSync(join(tmpdir(), "hf-proxycfg-"));
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, "proxy-config", ...args], { cwd, encoding: "utf8" });
  const port = run(["nginx", "--upstream", "127.0.0.1:99999"]);
  assert.equal(port.status, 2);
  assert.equal(port.stdout, "");
  assert.match(port.stderr, /--upstream "127\.0\.0\.1:99999": port "99999" is not a port number from 1 to 65535/);
  const inject = run(["nginx", "--server-name", "x; include /etc/passwd;"]);
  assert.equal(inject.status, 2);
  assert.equal(inject.stdout, "");
  assert.match(inject.stderr, /--server-name "x; include \/etc\/passwd;": expected host names separated by spaces.*";", "\{"/);
  for (const bad of ["999.1.1.1:3000", "host name:3000", "h;x:3000", "[nope]:3000", "127.0.0.1:3000 backup"]) {
    const r = run(["haproxy", "--upstream", bad, "--out", join(cwd, "haproxy.cfg")]);
    assert.equal(r.status, 2, bad);
    assert.match(r.stderr, /--upstream .*(is not a host name|expected host:port|not a port number)/, bad);
  }
  const ok = run(["nginx", "--upstream", "[::1]:3000", "--upstream", "app-1.internal:3001", "--server-name", "*.example.com example.com"]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /server \[::1\]:3000 /);
  assert.match(ok.stdout, /server_name \*\.example\.com example\.com;/);
});
