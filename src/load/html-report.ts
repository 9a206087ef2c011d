/**
 * `holdfast load --report out.html`: one self-contained HTML file (inline CSS and SVG, no script,
 * nothing fetched) with the verdicts, latency percentiles, throughput and status codes per second,
 * and the server-side series sampled from --admin.
 */
import type { ServerSummary } from "./server-summary.js";
import type { SloVerdict } from "./slo.js";
import { formatInUnit } from "./summary.js";
import { type ChartSeries, esc, lineChart } from "./svg-chart.js";
import type { LoadResult, TimelinePoint } from "./types.js";

/** What the report shows. */
export interface ReportInput {
  result: LoadResult;
  verdicts: readonly SloVerdict[];
  server?: ServerSummary | undefined;
  /** The command line that produced it, shown at the top. */
  command: string;
  /** When the run started. */
  startedAt: Date;
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
const GREENS = ["#2ca02c", "#8fd175", "#0b6e2e"];
const REDS = ["#d62728", "#9e1b1c", "#f08080"];
/** Success in greens, 503 (shed, pool timeout) in orange, other 5xx in reds, connection errors in black. */
function statusColor(code: string, k: number, codes: readonly string[]): string {
  const nth = (prefix: string) => codes.filter((c) => c.startsWith(prefix) && c !== "503").indexOf(code);
  if (code === "error") return "#000000";
  if (code === "503") return "#ff7f0e";
  if (code.startsWith("2")) return GREENS[nth("2") % GREENS.length] as string;
  if (code.startsWith("5")) return REDS[nth("5") % REDS.length] as string;
  return PALETTE[k % PALETTE.length] as string;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:780px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}
.pass{color:#1a7f37;font-weight:600}.fail{color:#c62828;font-weight:700}code{font-size:12px}
figure{margin:12px 0}figcaption span{margin-right:14px;font-size:12px}figcaption i{display:inline-block;width:10px;height:10px;margin-right:4px}
svg .t{font-size:13px;font-weight:600}svg .a{font-size:11px;fill:#555}svg .g{stroke:#e4e4e4}svg .th{stroke:#c62828;stroke-dasharray:5 4}`;

/**
 * Responses that arrived in a second: its completions less its connection errors. A second with
 * none has no latency (its p50/p99 read 0, see TimelinePoint) and is a gap in the chart, not a 0 ms point.
 */
function answered(p: TimelinePoint): number {
  return p.completed - (p.status.error ?? 0);
}

/** The tightest client latency SLO, drawn on the latency chart. */
function latencyThreshold(verdicts: readonly SloVerdict[]): { value: number; label: string } | undefined {
  const vs = verdicts.filter((x) => x.source === "client" && x.unit === "ms" && /^p\d/.test(x.metric)).sort((a, b) => a.threshold - b.threshold);
  const v = vs[0];
  return v && { value: v.threshold, label: `SLO ${v.slo}` };
}

/** The report as one HTML string. */
export function renderReport(i: ReportInput): string {
  const r = i.result;
  const tl = r.timeline;
  const b: string[] = [];
  b.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>holdfast load: ${esc(r.url)}</title><style>${CSS}</style></head><body>`);
  b.push(
    `<h1>holdfast load report</h1><p><code>${esc(i.command)}</code><br>started ${esc(i.startedAt.toISOString())}; ${r.mode === "open" ? `open loop at ${r.offered_rps} req/s` : `closed loop, ${r.connections} clients`} for ${r.duration_s} s</p>`,
  );
  if (i.verdicts.length) {
    const failed = i.verdicts.filter((v) => !v.ok).length;
    b.push(
      `<h2>SLOs: <span class="${failed ? "fail" : "pass"}">${failed ? `${failed} of ${i.verdicts.length} failed` : "all met"}</span></h2><table><tr><th></th><th>SLO</th><th>side</th><th>actual</th><th>limit</th><th>evidence</th></tr>`,
    );
    for (const v of i.verdicts) {
      const actual = v.actual === null ? "not measured" : formatInUnit(v.actual, v.unit);
      b.push(
        `<tr><td class="${v.ok ? "pass" : "fail"}">${v.ok ? "pass" : "FAIL"}</td><td><code>${esc(v.slo)}</code></td><td>${v.source}</td><td>${esc(actual)}</td><td>${esc(`${v.op} ${formatInUnit(v.threshold, v.unit)}`)}</td><td>${esc(v.detail)}</td></tr>`,
      );
    }
    b.push("</table>");
  }
  b.push(
    `<h2>Totals</h2><table><tr><th>sent</th><th>answered</th><th>goodput</th><th>throughput</th><th>status</th><th>generator lag p99</th></tr><tr><td>${r.sent}</td><td>${r.completed}</td><td>${r.goodput_rps} 2xx/s</td><td>${r.throughput_rps} resp/s</td><td>${esc(
      Object.entries(r.status)
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ") || "none",
    )}</td><td>${r.schedule_lag_ms.p99} ms</td></tr></table>`,
  );
  const a = r.latency_ms.all;
  const ok = r.latency_ms.ok;
  const row = (name: string, s: typeof a) =>
    `<tr><td>${name}</td><td>${s.count}</td><td>${s.p50}</td><td>${s.p90}</td><td>${s.p95}</td><td>${s.p99}</td><td>${s.p999}</td><td>${s.max}</td></tr>`;
  b.push(
    `<h2>Latency (ms, from each request's scheduled send time)</h2><table><tr><th></th><th>count</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>${row("all", a)}${row("2xx", ok)}${Object.entries(
      r.latency_ms.by_status,
    )
      .map(([k, s]) => row(esc(k), s))
      .join("")}</table>`,
  );
  b.push("<h2>Over time (per second)</h2>");
  b.push(
    lineChart({
      title: "Latency of the responses that arrived each second",
      unit: "ms",
      series: [
        { name: "p50", color: "#1f77b4", points: tl.map((p) => [p.t_s, answered(p) ? p.p50_ms : null]) },
        { name: "p99", color: "#d62728", points: tl.map((p) => [p.t_s, answered(p) ? p.p99_ms : null]) },
      ],
      threshold: latencyThreshold(i.verdicts),
    }),
  );
  b.push(
    lineChart({
      title: "Throughput",
      unit: "req/s",
      series: [
        { name: "sent", color: "#7f7f7f", points: tl.map((p) => [p.t_s, p.sent]) },
        { name: "answered", color: "#1f77b4", points: tl.map((p) => [p.t_s, p.completed]) },
      ],
    }),
  );
  const codes = [...new Set(tl.flatMap((p) => Object.keys(p.status)))].sort();
  b.push(
    lineChart({
      title: "Status codes",
      unit: "per s",
      series: codes.map((code, k) => ({
        name: code === "error" ? "connection error / timeout" : code,
        color: statusColor(code, k, codes),
        points: tl.map((p) => [p.t_s, p.status[code] ?? 0] as const),
      })),
    }),
  );
  if (i.server) b.push(...serverSection(i.server, i.verdicts));
  b.push(`<p style="color:#777;font-size:12px">Generated by holdfast load. Self-contained: no script, nothing loaded from the network.</p></body></html>`);
  return `${b.join("\n")}\n`;
}

function serverSection(s: ServerSummary, verdicts: readonly SloVerdict[]): string[] {
  const out = [`<h2>Server side (${s.instances.length} instance${s.instances.length === 1 ? "" : "s"} via --admin, sampled once a second)</h2>`];
  out.push(
    "<table><tr><th>instance</th><th>requests</th><th>shed</th><th>pool peak</th><th>pool timeouts</th><th>lock timeouts</th><th>worker restarts</th><th>loop lag p99</th></tr>",
  );
  for (const x of s.instances) {
    out.push(
      `<tr><td>${esc(x.target)}</td><td>${x.requests}</td><td>${x.shed}</td><td>${x.pool_utilization_max === null ? "no pool" : `${Math.round(x.pool_utilization_max * 100)} %`}</td><td>${x.pool_timeouts}</td><td>${x.lock_timeouts}</td><td>${x.worker_restarts}</td><td>${x.loop_lag_p99_ms ?? "?"} ms</td></tr>`,
    );
  }
  out.push("</table>");
  const per = (pick: (p: ServerSummary["timeline"][number]) => number | null, scale = 1): ChartSeries[] =>
    s.instances.map((x, k) => ({
      name: x.target,
      color: PALETTE[k % PALETTE.length] as string,
      points: s.timeline
        .filter((p) => p.target === x.target)
        .map((p) => {
          const v = pick(p);
          return [p.t_s, v === null ? null : v * scale] as const;
        }),
    }));
  const poolSlo = verdicts.find((v) => v.metric === "pool.utilization");
  out.push(
    lineChart({
      title: "Pool utilisation, busiest worker",
      unit: "%",
      series: per((p) => p.pool_utilization, 100),
      threshold: poolSlo && { value: poolSlo.threshold, label: `SLO ${poolSlo.slo}` },
    }),
  );
  out.push(lineChart({ title: "Requests served", unit: "req/s", series: per((p) => p.requests_per_s) }));
  out.push(lineChart({ title: "Shed by admission control", unit: "req/s", series: per((p) => p.shed_per_s) }));
  out.push(lineChart({ title: "Server-side request duration p99", unit: "ms", series: per((p) => p.p99_ms) }));
  out.push(lineChart({ title: "Event-loop lag, worst worker", unit: "ms", series: per((p) => p.loop_lag_max_ms) }));
  return out;
}
