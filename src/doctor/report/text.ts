/** The human reports: plain text for the terminal (default) and Markdown (--markdown). */
import type { DoctorResult } from "../run.js";
import type { Finding } from "../types.js";
import { escapeControl } from "./escape-control.js";

const LAYERS = ["holdfast", "nginx", "haproxy", "alb"] as const;

function pct(c: number): string {
  return `${Math.round(c * 100)} %`;
}

function headline(r: DoctorResult): string {
  const d = r.data;
  const problems = r.findings.filter((f) => f.severity !== "info");
  const scanned = d.files.length ? `Read ${d.files.length} log file${d.files.length === 1 ? "" : "s"} (${d.files.reduce((n, f) => n + f.lines, 0).toLocaleString("en")} lines)` : "No logs given";
  const reqs = d.proxyRequests
    ? `; ${d.failedTotal.toLocaleString("en")} of ${d.proxyRequests.toLocaleString("en")} proxied requests failed (5xx)`
    : d.inferredFailures
      ? `; ${d.failedTotal.toLocaleString("en")} failed requests inferred from the proxy's error log (no access log given)`
      : "";
  const verdict = problems.length === 0 ? "No problem found." : `${problems.length} problem${problems.length === 1 ? "" : "s"} found, most failed requests first.`;
  return `${scanned}${reqs}. ${verdict}`;
}

function indent(s: string, by: string): string {
  return s
    .split("\n")
    .map((l) => by + l)
    .join("\n");
}

/** Plain-text report. */
export function toText(r: DoctorResult): string {
  const out: string[] = [`holdfast doctor — ${headline(r)}`, ""];
  r.findings.forEach((f, n) => {
    out.push(`${n + 1}. [${f.severity.toUpperCase()}] ${f.title}`);
    out.push(`   id ${f.id} · confidence ${pct(f.confidence)} · explains ${f.explains} failed request${f.explains === 1 ? "" : "s"}`);
    out.push(indent(f.evidence.summary, "   "));
    for (const s of f.evidence.samples) out.push(`     ${s.file}:${s.line}  ${s.text}`);
    out.push(`   Fix: ${f.fix.summary}`);
    for (const layer of LAYERS) {
      const lines = f.fix[layer];
      if (lines) out.push(`   ${layer}:`, indent(lines, "       "));
    }
    out.push("");
  });
  // Findings quote log lines verbatim: their control characters must not reach the terminal.
  return `${escapeControl(out.join("\n").trimEnd())}\n`;
}

/** Markdown report. */
export function toMarkdown(r: DoctorResult): string {
  const out: string[] = ["# holdfast doctor report", "", headline(r), ""];
  if (r.findings.length) {
    out.push("| # | severity | cause | confidence | explains |", "|---|---|---|---|---|");
    for (const [n, f] of r.findings.entries()) out.push(`| ${n + 1} | ${f.severity} | ${f.title.replace(/\|/g, "\\|")} (\`${f.id}\`) | ${pct(f.confidence)} | ${f.explains} |`);
    out.push("");
  }
  r.findings.forEach((f: Finding, n) => {
    out.push(`## ${n + 1}. ${f.title}`, "", `**${f.severity}** · \`${f.id}\` · confidence ${pct(f.confidence)} · explains ${f.explains} failed request${f.explains === 1 ? "" : "s"}`, "", f.evidence.summary, "");
    if (f.evidence.samples.length) {
      out.push("Evidence:", "", "```");
      for (const s of f.evidence.samples) out.push(`${s.file}:${s.line}  ${s.text}`);
      out.push("```", "");
    }
    out.push(`**Fix:** ${f.fix.summary}`, "");
    for (const layer of LAYERS) {
      const lines = f.fix[layer];
      if (lines) out.push(`${layer}:`, "", "```", lines, "```", "");
    }
  });
  return `${escapeControl(out.join("\n").trimEnd())}\n`;
}
