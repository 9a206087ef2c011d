// The generated proxy configs are accepted by the real nginx and HAProxy, and agree with holdfast's timeouts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Service } from "kubernetes-models/v1/Service";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { parseAllDocuments } from "yaml";
import { CLI } from "./support/holdfast-process.js";
import { requireBinary } from "./support/require-service.js";
import { tempDir } from "./support/temp-dir.js";

function gen(kind: string, env: Record<string, string> = {}, upstreams = ["127.0.0.1:3001", "127.0.0.1:3002"]) {
  const cwd = tempDir("hf-proxycfg-");
  const args = upstreams.flatMap((u) => ["--upstream", u]);
  return spawnSync(process.execPath, [CLI, "proxy-config", kind, ...args, "--listen", "8080"], { cwd, env: { ...process.env, ...env }, encoding: "utf8" });
}

/** nginx -t on the generated snippet inside a minimal nginx.conf; returns its whole output. */
function nginxCheck(nginx: string, snippet: string): { status: number | null; output: string } {
  const dir = tempDir("hf-nginx-");
  mkdirSync(join(dir, "logs"));
  writeFileSync(join(dir, "holdfast.conf"), snippet.replaceAll("/var/log/nginx/", `${dir}/logs/`));
  writeFileSync(join(dir, "nginx.conf"), `error_log ${dir}/logs/error.log;\npid ${dir}/nginx.pid;\nevents {}\nhttp {\n  include ${dir}/holdfast.conf;\n}\n`);
  const check = spawnSync(nginx, ["-t", "-p", dir, "-c", join(dir, "nginx.conf")], { encoding: "utf8" });
  return { status: check.status, output: check.stdout + check.stderr };
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
  const check = nginxCheck(nginx, r.stdout);
  assert.equal(check.status, 0, check.output);
  assert.doesNotMatch(check.output, /\[(warn|emerg|alert)\]/, "nginx -t prints no warning");
});

test("nginx: passive health checks on every instance, retries of idempotent requests only, before a response started", (t) => {
  const nginx = requireBinary(t, "nginx", ["/usr/sbin/nginx"]);
  if (!nginx) return;
  const r = gen("nginx", {}, ["127.0.0.1:3001", "127.0.0.1:3002", "127.0.0.1:3003"]);
  assert.equal(r.status, 0, r.stderr);
  for (const p of [3001, 3002, 3003]) assert.match(r.stdout, new RegExp(`server 127\\.0\\.0\\.1:${p} max_fails=3 fail_timeout=10s;`));
  assert.match(r.stdout, /^\s*proxy_next_upstream error timeout http_502;$/m);
  // Not http_503: an overloaded holdfast's 503 would be retried on the others and count against max_fails.
  assert.doesNotMatch(r.stdout.replace(/#.*$/gm, ""), /http_503/);
  // "non_idempotent" would let nginx send a POST that reached a dead instance to another: a write made twice.
  assert.doesNotMatch(r.stdout.replace(/#.*$/gm, ""), /non_idempotent/);
  assert.match(r.stdout, /proxy_next_upstream_tries 3;/);
  assert.equal(nginxCheck(nginx, r.stdout).status, 0);
});

test("HAProxy accepts the generated config as it is, with no warning", (t) => {
  const haproxy = requireBinary(t, "haproxy", ["/usr/sbin/haproxy"]);
  if (!haproxy) return;
  const r = gen("haproxy", {}, ["127.0.0.1:3001,admin=9465", "127.0.0.1:3002,admin=9466", "127.0.0.1:3003"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /timeout server 36s/);
  // The file alone, no section added by the test: it must carry its own global log target.
  const dir = tempDir("hf-haproxy-");
  writeFileSync(join(dir, "haproxy.cfg"), r.stdout);
  const check = spawnSync(haproxy, ["-c", "-f", join(dir, "haproxy.cfg")], { encoding: "utf8" });
  const output = check.stdout + check.stderr;
  assert.equal(check.status, 0, output);
  assert.doesNotMatch(output, /WARNING|ALERT/, "haproxy -c prints no warning");
  // Health checks on each instance's own admin port; the third falls back to admin.port.
  assert.match(r.stdout, /server app1 127\.0\.0\.1:3001 check port 9465 /);
  assert.match(r.stdout, /server app2 127\.0\.0\.1:3002 check port 9466 /);
  assert.match(r.stdout, /server app3 127\.0\.0\.1:3003 check port 9464 /);
  assert.match(r.stdout, /observe layer7/);
  assert.match(r.stdout, /^\s*retry-on conn-failure empty-response 502$/m);
  assert.match(r.stdout, /^\s*option redispatch 1$/m);
  assert.match(r.stdout, /^\s*http-request disable-l7-retry if \{ method POST PATCH LOCK \}$/m);
  // The keep-alive the comments promise: no directive closing server connections after each request.
  assert.doesNotMatch(r.stdout.replace(/#.*$/gm, ""), /http-server-close|httpclose/);
  assert.match(r.stdout, /timeout http-keep-alive 60s/);
});

test("--admin-port sets the health-check port of every upstream that does not name its own", () => {
  const cwd = tempDir("hf-proxycfg-");
  const r = spawnSync(
    process.execPath,
    [CLI, "proxy-config", "haproxy", "--upstream", "10.0.0.1:3000", "--upstream", "10.0.0.2:3000,admin=7001", "--admin-port", "9500"],
    { cwd, encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /server app1 10\.0\.0\.1:3000 check port 9500 /);
  assert.match(r.stdout, /server app2 10\.0\.0\.2:3000 check port 7001 /);
  const bad = spawnSync(process.execPath, [CLI, "proxy-config", "haproxy", "--upstream", "10.0.0.1:3000,admin=0", "--admin-port", "x"], {
    cwd,
    encoding: "utf8",
  });
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, "");
  assert.match(bad.stderr, /--upstream "10\.0\.0\.1:3000,admin=0": after the comma, expected admin=<port>/);
  assert.match(bad.stderr, /--admin-port "x": expected a port number/);
});

test("kubernetes: Deployment, Service and Ingress pass the Kubernetes schemas and agree with holdfast's timeouts", () => {
  const cwd = tempDir("hf-proxycfg-");
  const env = { ...process.env, HOLDFAST_TIMEOUTS_DEADLINE: "20s", HOLDFAST_TIMEOUTS_GRACEFUL: "25s", HOLDFAST_ADMIN_PORT: "9470" };
  const r = spawnSync(
    process.execPath,
    [CLI, "proxy-config", "kubernetes", "--image", "registry.example.com/notes:1.0", "--replicas", "3", "--server-name", "notes.example.com"],
    { cwd, env, encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  const docs = parseAllDocuments(r.stdout);
  assert.ok(Array.isArray(docs));
  const objs = (docs as Array<{ errors: unknown[]; toJS(): Record<string, unknown> }>).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS();
  });
  assert.deepEqual(
    objs.map((o) => o.kind),
    ["Deployment", "Service", "Ingress"],
  );
  // The schema validators of kubernetes-models (generated from the Kubernetes OpenAPI spec) throw on any invalid field.
  const deployment = new Deployment(objs[0] as ConstructorParameters<typeof Deployment>[0]);
  deployment.validate();
  new Service(objs[1] as ConstructorParameters<typeof Service>[0]).validate();
  const ingress = new Ingress(objs[2] as ConstructorParameters<typeof Ingress>[0]);
  ingress.validate();

  const pod = deployment.spec?.template.spec;
  const c = pod?.containers[0];
  assert.ok(pod && c);
  const adminPort = c.ports?.find((p) => p.name === "admin")?.containerPort;
  assert.equal(adminPort, 9470, "the admin port of the config");
  assert.equal(c.readinessProbe?.httpGet?.path, "/readyz");
  assert.equal(c.readinessProbe?.httpGet?.port, "admin");
  assert.equal(c.livenessProbe?.httpGet?.path, "/healthz");
  assert.equal(c.livenessProbe?.httpGet?.port, "admin");
  const preStop = Number(c.lifecycle?.preStop?.exec?.command?.[1]);
  assert.ok(preStop > 0, "a preStop delay, so the pod leaves the Service before it stops accepting");
  assert.ok(
    (pod.terminationGracePeriodSeconds ?? 0) > 25 + preStop,
    `grace ${pod.terminationGracePeriodSeconds}s > timeouts.graceful 25s + preStop ${preStop}s`,
  );
  const ann = ingress.metadata?.annotations ?? {};
  assert.ok(Number(ann["nginx.ingress.kubernetes.io/proxy-read-timeout"]) > 20, "ingress read timeout above the 20 s deadline");
  assert.equal(ann["nginx.ingress.kubernetes.io/proxy-next-upstream"], "error timeout http_502");
  assert.equal(ingress.spec?.rules?.[0]?.host, "notes.example.com");
  assert.equal(ingress.spec?.rules?.[0]?.http?.paths[0]?.backend.service?.name, "holdfast");
  assert.equal(c.env?.find((e) => e.name === "HOLDFAST_ADMIN_HOST")?.value, "0.0.0.0", "the kubelet reaches the admin port on the pod IP");

  const noImage = spawnSync(process.execPath, [CLI, "proxy-config", "kubernetes"], { cwd, encoding: "utf8" });
  assert.equal(noImage.status, 2);
  assert.match(noImage.stderr, /--image is required/);
  const badName = spawnSync(process.execPath, [CLI, "proxy-config", "kubernetes", "--image", "a:1", "--name", "Bad_Name"], { cwd, encoding: "utf8" });
  assert.equal(badName.status, 2);
  assert.match(badName.stderr, /--name "Bad_Name": expected lower-case letters/);
});

test("proxy-config refuses a missing proxy kind and a malformed upstream", () => {
  const r = gen("apache");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Say which proxy/);
});

test("proxy-config refuses an out-of-range port and a server name that would inject directives, writing nothing", () => {
  const cwd = tempDir("hf-proxycfg-");
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
