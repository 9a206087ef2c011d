/** Reads timeout server / http-keep-alive / connect out of an HAProxy config. Pure. */
import type { ProxyConfigFacts } from "../types.js";

/** HAProxy time ("30s", "500", "1m"; the default unit is milliseconds) to ms. */
export function haproxyTime(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const m = /^(\d+(?:\.\d+)?)(us|ms|s|m|h|d)?$/.exec(v.trim());
  if (!m) return undefined;
  const mult = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? "ms") as "ms"];
  return Number(m[1]) * mult;
}

/** Extracts the facts; a value in a backend wins over defaults. */
export function readHaproxyConfig(text: string, file: string): ProxyConfigFacts {
  const facts: ProxyConfigFacts = { kind: "haproxy", file, logFormats: {} };
  let section = "";
  const found: Record<string, { value: number; section: string }> = {};
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) continue;
    const words = line.split(/\s+/);
    const head = words[0] as string;
    if (["global", "defaults", "frontend", "backend", "listen"].includes(head)) {
      section = head;
      continue;
    }
    if (head === "timeout" && words[1] && words[2]) {
      const v = haproxyTime(words[2]);
      if (v === undefined) continue;
      const prev = found[words[1]];
      if (!prev || (prev.section === "defaults" && section !== "defaults")) found[words[1]] = { value: v, section };
    }
  }
  facts.proxyReadTimeout = found.server?.value;
  facts.upstreamIdleTimeout = found["http-keep-alive"]?.value;
  facts.connectTimeout = found.connect?.value;
  return facts;
}
