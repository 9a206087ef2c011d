/** Proxy config readers (nginx, HAProxy) and how their facts fill the proxy side of the timeout budget. */
import type { TimeoutLayers } from "../../config/index.js";
import type { ProxyConfigFacts } from "../types.js";

export { readNginxConfig, nginxTime, nginxSize, parseNginxDirectives } from "./nginx-config.js";
export { readHaproxyConfig, haproxyTime } from "./haproxy-config.js";

/** Overrides the proxy side of the layers with what the proxy's own config says. */
export function mergeProxyLayers(base: TimeoutLayers | undefined, facts: ProxyConfigFacts | undefined): TimeoutLayers | undefined {
  if (!facts) return base;
  const out: TimeoutLayers = { ...(base ?? {}) };
  if (facts.proxyReadTimeout !== undefined) out.proxyReadTimeout = facts.proxyReadTimeout;
  if (facts.upstreamIdleTimeout !== undefined) out.proxyIdleTimeout = facts.upstreamIdleTimeout;
  else if (facts.kind === "nginx") out.proxyIdleTimeout = undefined; // no upstream keepalive: no idle sockets to race on
  return out;
}
