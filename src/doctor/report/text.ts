/** The human reports: plain text for the terminal (default) and Markdown (--markdown). */
import { fleetTable } from "../../monitor/index.js";
import { chainOrder } from "../chains.js";
import type { DoctorResult } from "../run.js";
import type { CausalLink, Finding } from "../types.js";
import { escapeControl } from "./escape-control.js";

const LAYERS = ["holdfast", "nginx", "haproxy", "alb"] as const;

/** The fix layers worth printing: holdfast, and the proxies the logs or configs came from (all of them when none did). */
function layersFor(r: DoctorResult): readonly (typeof LAYERS)[number][] {
  const seen = new Set<string>();
  for (const f of r.data.files) seen.add(f.kind === "nginx-access" || f.kind === "nginx-error" ? "nginx" : f.kind);
  if (r.data.proxyConfig) seen.add(r.data.proxyConfig.kind);
  const proxies = LAYERS.filter((l) => l !== "holdfast" && seen.has(l));
  return proxies.length ? ["holdfast", ...proxies] : LAYERS;
}

function pct(c: number): string {
  return `${Math.round(c * 100)} %`;
}

function headline(r: DoctorResult): string {
  const d = r.data;
  const problems = r.findings.filter((f) => f.severity !== "info");
  const scanned = d.files.length
    ? `Read ${d.files.length} log file${d.files.length === 1 ? "" : "s"} (${d.files.reduce((n, f) => n + f.lines, 0).toLocaleString("en")} lines)`
    : "No logs given";
  const reqs = d.proxyRequests
    ? `; ${d.failedTotal.toLocaleString("en")} of ${d.proxyRequests.toLocaleString("en")} proxied requests failed (5xx)`
    : d.inferredFailures
      ? `; ${d.failedTotal.toLocaleString("en")} failed requests inferred from the proxy's error log (no access log given)`
      : "";
  const verdict =
    problems.length === 0
      ? "No problem found."
      : `${problems.length} problem${problems.length === 1 ? "" : "s"} found, deepest cause first, what it produces under it.`;
  return `${scanned}${reqs}. ${verdict}`;
}

function indent(s: string, by: string): string {
  return s
    .split("\n")
    .map((l) => by + l)
    .join("\n");
}

/** "412 requests · lag 2.0 s" for a link; a link that shares no request (servers marked down by earlier failures) shows its lag alone. */
function linkFacts(l: CausalLink): string {
  const lag = lagText(l);
  return l.shared > 0 ? `${l.shared} request${l.shared === 1 ? "" : "s"}${lag}` : lag.replace(/^ · /, "") || "no request in common";
}

/** "2.0 s after" for a link's lag. */
function lagText(l: CausalLink): string {
  if (l.lagMs === undefined) return "";
  const s = (Math.abs(l.lagMs) / 1000).toFixed(1);
  const spread = l.lagSpreadMs ? `, spread ${(l.lagSpreadMs / 1000).toFixed(1)} s` : "";
  return Math.abs(l.lagMs) < 500 ? ` · lag < 0.5 s${spread}` : ` · lag ${s} s${l.lagMs > 0 ? " (cause logged after the effect)" : ""}${spread}`;
}

/** Numbers findings by chain: "1", then "1.1" under it, "1.1.1" under that. */
function numbering(r: DoctorResult): { finding: Finding; depth: number; label: string }[] {
  const out: { finding: Finding; depth: number; label: string }[] = [];
  const path: number[] = [];
  for (const p of chainOrder(r.findings)) {
    path.length = p.depth + 1;
    path[p.depth] = (path[p.depth] ?? 0) + 1;
    out.push({ ...p, label: path.slice(0, p.depth + 1).join(".") });
  }
  return out;
}

/** Plain-text report: each root cause numbered, what it produces indented under it. */
export function toText(r: DoctorResult): string {
  const out: string[] = [`holdfast doctor — ${headline(r)}`, ""];
  if (r.instances) out.push("Instances (counts since each started):", indent(fleetTable(r.instances), "  "), "");
  const layers = layersFor(r);
  // A chain's links often rest on the same lines: each line is quoted once, where it first appears.
  const quoted = new Map<string, string>();
  for (const { finding: f, depth, label } of numbering(r)) {
    const pad = "   ".repeat(depth);
    const body = `${pad}   `;
    out.push(`${pad}${label}. [${f.severity.toUpperCase()}] ${f.title}`);
    const by = (f.explainedBy ?? []).length ? ` · produced by ${(f.explainedBy ?? []).join(", ")}` : "";
    out.push(`${body}id ${f.id} · confidence ${pct(f.confidence)} · explains ${f.explains} failed request${f.explains === 1 ? "" : "s"}${by}`);
    out.push(indent(f.evidence.summary, body));
    const again: string[] = [];
    for (const s of f.evidence.samples) {
      const key = `${s.file}:${s.line}`;
      const first = quoted.get(key);
      if (first !== undefined) again.push(`${key} (quoted under ${first})`);
      else {
        quoted.set(key, label);
        out.push(`${body}  ${key}  ${s.text}`);
      }
    }
    if (again.length) out.push(`${body}  also ${again.join(", ")}`);
    out.push(`${body}Fix: ${f.fix.summary}`);
    if (f.fix.stack) out.push(`${body}${f.fix.stack.name}:`, indent(f.fix.stack.lines, `${body}    `));
    for (const layer of layers) {
      const lines = f.fix[layer];
      if (lines) out.push(`${body}${layer}:`, indent(lines, `${body}    `));
    }
    for (const l of (f.links ?? []).filter((x) => x.from === f.id)) out.push(`${body}→ produces ${l.to} (${linkFacts(l)}): ${l.evidence}`);
    out.push("");
  }
  // Findings quote log lines verbatim: their control characters must not reach the terminal.
  return `${escapeControl(out.join("\n").trimEnd())}\n`;
}

/** Markdown report. */
export function toMarkdown(r: DoctorResult): string {
  const out: string[] = ["# holdfast doctor report", "", headline(r), ""];
  const layers = layersFor(r);
  const rows = numbering(r);
  if (rows.length) {
    out.push("| # | severity | cause | confidence | explains | produced by |", "|---|---|---|---|---|---|");
    for (const { finding: f, label } of rows)
      out.push(
        `| ${label} | ${f.severity} | ${f.title.replace(/\|/g, "\\|")} (\`${f.id}\`) | ${pct(f.confidence)} | ${f.explains} | ${(f.explainedBy ?? []).join(", ")} |`,
      );
    out.push("");
  }
  for (const { finding: f, label, depth } of rows) {
    out.push(
      `${"#".repeat(Math.min(6, 2 + depth))} ${label}. ${f.title}`,
      "",
      `**${f.severity}** · \`${f.id}\` · confidence ${pct(f.confidence)} · explains ${f.explains} failed request${f.explains === 1 ? "" : "s"}`,
      "",
      f.evidence.summary,
      "",
    );
    if (f.evidence.samples.length) {
      out.push("Evidence:", "", "```");
      for (const s of f.evidence.samples) out.push(`${s.file}:${s.line}  ${s.text}`);
      out.push("```", "");
    }
    out.push(`**Fix:** ${f.fix.summary}`, "");
    if (f.fix.stack) out.push(`${f.fix.stack.name}:`, "", "```", f.fix.stack.lines, "```", "");
    for (const layer of layers) {
      const lines = f.fix[layer];
      if (lines) out.push(`${layer}:`, "", "```", lines, "```", "");
    }
    for (const l of (f.links ?? []).filter((x) => x.from === f.id)) out.push(`→ produces \`${l.to}\` (${linkFacts(l)}): ${l.evidence}`, "");
  }
  return `${escapeControl(out.join("\n").trimEnd())}\n`;
}
