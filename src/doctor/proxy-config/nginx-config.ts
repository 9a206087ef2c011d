/**
 * Reads the facts the doctor needs out of an nginx config (a file, or the output of `nginx -T`):
 * proxy_read_timeout, upstream keepalive / keepalive_timeout, proxy_next_upstream,
 * proxy_buffer_size and log_format. Pure: text in, facts out.
 */
import type { ProxyConfigFacts } from "../types.js";

/** One directive with its arguments and the blocks it sits in. */
interface Directive {
  name: string;
  args: string[];
  /** Enclosing block names outermost first, e.g. ["http", "upstream"]. */
  context: string[];
}

function tokenize(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (c === "#") {
      const e = text.indexOf("\n", i);
      i = e < 0 ? n : e + 1;
    } else if (c === " " || c === "\t" || c === "\n" || c === "\r") i++;
    else if (c === ";" || c === "{" || c === "}") {
      out.push(c);
      i++;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let s = "";
      while (j < n && text[j] !== c) {
        if (text[j] === "\\" && j + 1 < n) {
          s += text[j + 1];
          j += 2;
        } else s += text[j++];
      }
      out.push(`\u0000${s}`);
      i = j + 1;
    } else {
      let j = i;
      while (j < n && !" \t\n\r;{}".includes(text[j] as string)) j++;
      out.push(text.slice(i, j));
      i = j;
    }
  }
  return out;
}

/** Flattens the config into directives with their context. */
export function parseNginxDirectives(text: string): Directive[] {
  const toks = tokenize(text);
  const out: Directive[] = [];
  const stack: string[] = [];
  let cur: string[] = [];
  for (const t of toks) {
    if (t === ";") {
      if (cur.length) out.push({ name: unq(cur[0] as string), args: cur.slice(1).map(unq), context: [...stack] });
      cur = [];
    } else if (t === "{") {
      stack.push(unq(cur[0] ?? ""));
      if (cur.length) out.push({ name: unq(cur[0] as string), args: cur.slice(1).map(unq), context: stack.slice(0, -1) });
      cur = [];
    } else if (t === "}") {
      stack.pop();
      cur = [];
    } else cur.push(t);
  }
  return out;
}

function unq(t: string): string {
  return t.startsWith("\u0000") ? t.slice(1) : t;
}

/** nginx time ("60s", "1m", "500ms", "60") to ms. */
export function nginxTime(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(v.trim());
  if (!m) return undefined;
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? "s") as "s"];
  return Number(m[1]) * mult;
}

/** nginx size ("16k", "1m", "4096") to bytes. */
export function nginxSize(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const m = /^(\d+)([kKmMgG])?$/.exec(v.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? "").toLowerCase();
  return Number(m[1]) * (unit === "k" ? 1024 : unit === "m" ? 1024 * 1024 : unit === "g" ? 1024 ** 3 : 1);
}

/** Extracts the facts from an nginx config text. */
export function readNginxConfig(text: string, file: string): ProxyConfigFacts {
  const ds = parseNginxDirectives(text);
  const facts: ProxyConfigFacts = { kind: "nginx", file, logFormats: {} };
  const first = (name: string, inUpstream?: boolean) =>
    ds.find((d) => d.name === name && (inUpstream === undefined || d.context.includes("upstream") === inUpstream));
  facts.proxyReadTimeout = nginxTime(first("proxy_read_timeout")?.args[0]) ?? (ds.some((d) => d.name === "proxy_pass") ? 60_000 : undefined);
  const ka = first("keepalive", true);
  if (ka) {
    facts.upstreamKeepalive = Number(ka.args[0]);
    // nginx ≥ 1.15.3 closes idle upstream connections after keepalive_timeout (default 60s) inside upstream.
    facts.upstreamIdleTimeout = nginxTime(first("keepalive_timeout", true)?.args[0]) ?? 60_000;
  }
  facts.proxyNextUpstream = first("proxy_next_upstream")?.args.join(" ");
  facts.proxyBufferSize = nginxSize(first("proxy_buffer_size")?.args[0]);
  for (const d of ds) {
    if (d.name !== "log_format" || d.args.length < 2) continue;
    const parts = d.args.slice(1).filter((a) => !a.startsWith("escape="));
    facts.logFormats[d.args[0] as string] = parts.join("");
  }
  const access = ds.find((d) => d.name === "access_log" && d.args[0] !== "off" && d.args[1] !== undefined);
  const fmtName = access?.args[1];
  if (fmtName && fmtName !== "combined" && facts.logFormats[fmtName]) facts.accessLogFormat = facts.logFormats[fmtName];
  return facts;
}
