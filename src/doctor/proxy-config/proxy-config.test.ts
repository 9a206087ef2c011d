import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { haproxyTime, mergeProxyLayers, nginxTime, readHaproxyConfig, readNginxConfig } from "./index.js";

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/doctor/${name}`, import.meta.url), "utf8");

test("nginx config: read timeout, upstream keepalive and its timeout, buffer, next_upstream, the access log's format", () => {
  const f = readNginxConfig(fixture("nginx.conf"), "nginx.conf");
  assert.equal(f.proxyReadTimeout, 30_000);
  assert.equal(f.upstreamKeepalive, 32);
  assert.equal(f.upstreamIdleTimeout, 75_000);
  assert.equal(f.proxyBufferSize, 4096);
  assert.equal(f.proxyNextUpstream, "error timeout");
  assert.match(f.accessLogFormat ?? "", /us=\$upstream_status rid=\$request_id$/);
  assert.match(f.accessLogFormat ?? "", /^\$remote_addr - \$remote_user \[\$time_local\] "\$request" \$status/);
});

test("`nginx -T` output (several files, comments) and nginx defaults", () => {
  const dump = `nginx: the configuration file /etc/nginx/nginx.conf syntax is ok
nginx: configuration file /etc/nginx/nginx.conf test is successful
# configuration file /etc/nginx/nginx.conf:
http {
    include /etc/nginx/conf.d/*.conf;
}

# configuration file /etc/nginx/conf.d/app.conf:
upstream app { server 10.0.1.12:3000; keepalive 16; }
server { location / { proxy_pass http://app; } }
`;
  const f = readNginxConfig(dump, "nginx -T");
  assert.equal(f.proxyReadTimeout, 60_000, "nginx default when proxy_pass is used");
  assert.equal(f.upstreamIdleTimeout, 60_000, "keepalive_timeout default inside upstream");
  assert.equal(f.accessLogFormat, undefined);
});

test("HAProxy: a backend's timeout server wins over defaults; bare numbers are milliseconds", () => {
  const f = readHaproxyConfig(fixture("haproxy.cfg"), "haproxy.cfg");
  assert.equal(f.proxyReadTimeout, 45_000);
  assert.equal(f.upstreamIdleTimeout, 10_000);
  assert.equal(f.connectTimeout, 5000);
  assert.equal(haproxyTime("5000"), 5000);
  assert.equal(nginxTime("5"), 5000);
});

test("the proxy's own config overrides what holdfast's config declares about it", () => {
  const merged = mergeProxyLayers({ proxyReadTimeout: 60_000, proxyIdleTimeout: 60_000, keepAlive: 65_000 }, readNginxConfig(fixture("nginx.conf"), "x"));
  assert.equal(merged?.proxyReadTimeout, 30_000);
  assert.equal(merged?.proxyIdleTimeout, 75_000);
  assert.equal(merged?.keepAlive, 65_000);
});
