/** Human-readable summary of a {@link LoadResult}, for a terminal at 3 a.m. */
import type { SloVerdict } from "./slo.js";
import type { LoadResult } from "./types.js";

const f = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

/** Multi-line text summary, with a warning when the generator itself fell behind. */
export function formatSummary(r: LoadResult, verdicts: SloVerdict[] = []): string {
  const lines: string[] = [];
  const head =
    r.mode === "open"
      ? `${r.url}: open loop at ${r.offered_rps} req/s for ${r.duration_s} s over up to ${r.connections} connections`
      : `${r.url}: closed loop, ${r.connections} clients back to back for ${r.duration_s} s`;
  lines.push(head);
  lines.push(`  sent ${r.sent}, answered ${r.completed}; goodput ${f(r.goodput_rps)} 2xx/s, throughput ${f(r.throughput_rps)} resp/s`);
  lines.push(`  status: ${Object.entries(r.status).map(([k, v]) => `${k}=${v}`).join("  ") || "(none)"}`);
  if (Object.keys(r.errors).length > 0) lines.push(`  connection errors: ${Object.entries(r.errors).map(([k, v]) => `${k}=${v}`).join("  ")}`);
  const a = r.latency_ms.all;
  const ok = r.latency_ms.ok;
  lines.push(`  latency all  ms: p50 ${f(a.p50)}  p90 ${f(a.p90)}  p99 ${f(a.p99)}  p99.9 ${f(a.p999)}  max ${f(a.max)}`);
  lines.push(`  latency 2xx  ms: p50 ${f(ok.p50)}  p90 ${f(ok.p90)}  p99 ${f(ok.p99)}  p99.9 ${f(ok.p999)}  max ${f(ok.max)}`);
  for (const [code, s] of Object.entries(r.latency_ms.byStatus)) {
    if (code.startsWith("2")) continue;
    lines.push(`  latency ${code}  ms: p50 ${f(s.p50)}  p99 ${f(s.p99)}  max ${f(s.max)}`);
  }
  if (r.mode === "open") {
    lines.push(`  generator schedule lag ms: p50 ${f(r.schedule_lag_ms.p50)}  p99 ${f(r.schedule_lag_ms.p99)}  max ${f(r.schedule_lag_ms.max)}`);
    if (r.schedule_lag_ms.p99 > 50) {
      lines.push("  WARNING: the load generator fell behind its own schedule (p99 lag above 50 ms): it is CPU-starved, so part of the latency above is the client's, not the server's. Run it on another machine or lower --rate.");
    }
    if (r.client_queued > 0) {
      lines.push(`  note: ${r.client_queued} requests waited for a free client connection (all ${r.connections} busy); their wait counts in the latency. Raise --connections to offer more concurrency.`);
    }
  }
  for (const v of verdicts) lines.push(`  SLO ${v.ok ? "pass" : "FAIL"}  ${v.slo}  (actual ${v.actual})`);
  return `${lines.join("\n")}\n`;
}
