/** Human-readable summary of a {@link LoadResult}, for a terminal at 3 a.m. */
import type { ServerSummary } from "./server-summary.js";
import type { SloUnit, SloVerdict } from "./slo.js";
import type { LoadResult } from "./types.js";

const f = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

/** A value in its unit, so a threshold and its actual value always read alike ("2.40 %" next to "1 %"). */
export function formatInUnit(v: number, unit: SloUnit): string {
  if (unit === "%") return `${Number.isInteger(v) ? v : v.toFixed(2)} %`;
  if (unit === "ms") return `${Number.isInteger(v) ? v : f(v)} ms`;
  if (unit === "req/s") return `${f(v)} req/s`;
  return String(v);
}

/** The verdict table: client-side and server-side rows together, each with its evidence. */
export function formatVerdicts(verdicts: readonly SloVerdict[]): string[] {
  if (verdicts.length === 0) return [];
  const w = Math.max(...verdicts.map((v) => v.slo.length));
  const rows = verdicts.map((v) => {
    const actual = v.actual === null ? "not measured" : formatInUnit(v.actual, v.unit);
    const limit = `${v.op} ${formatInUnit(v.threshold, v.unit)}`;
    return { v, actual, limit };
  });
  const wa = Math.max(...rows.map((x) => x.actual.length));
  const wl = Math.max(...rows.map((x) => x.limit.length));
  const failed = verdicts.filter((v) => !v.ok).length;
  const lines = [
    `  SLOs: ${failed === 0 ? "all met" : `${failed} of ${verdicts.length} FAILED`} (client = measured by this generator, server = read from --admin)`,
  ];
  for (const { v, actual, limit } of rows) {
    lines.push(
      `  SLO ${v.ok ? "pass" : "FAIL"}  ${v.slo.padEnd(w)}  ${v.source.padEnd(6)}  actual ${actual.padEnd(wa)}  limit ${limit.padEnd(wl)}  ${v.detail}`,
    );
  }
  return lines;
}

/** The server-side block: what the --admin endpoints reported during the run. */
export function formatServer(s: ServerSummary): string[] {
  const lines = [`  server (${s.instances.length} instance${s.instances.length === 1 ? "" : "s"} via --admin, ${s.samples} samples):`];
  for (const i of s.instances) {
    if (i.samples_ok === 0) {
      lines.push(`    ${i.target}: never answered (${i.last_error ?? "?"})`);
      continue;
    }
    const pool = i.pool_utilization_max === null ? "no pool" : `pool peak ${(i.pool_utilization_max * 100).toFixed(0)} %`;
    const lag = i.loop_lag_p99_ms === null ? "" : `, loop lag p99 ${f(i.loop_lag_p99_ms)} ms`;
    lines.push(
      `    ${i.target}: ${i.requests} requests, ${i.shed} shed; ${pool}, ${i.pool_timeouts} pool timeouts, ${i.lock_timeouts} lock timeouts; ${i.worker_restarts} worker restarts (${i.worker_timeouts} watchdog kills, ${i.worker_crashes} crashes)${lag}${i.samples_failed ? `; ${i.samples_failed} readings failed (${i.last_error})` : ""}`,
    );
  }
  return lines;
}

/** Multi-line text summary, with a warning when the generator itself fell behind. */
export function formatSummary(r: LoadResult, verdicts: readonly SloVerdict[] = [], server?: ServerSummary): string {
  const lines: string[] = [];
  const head =
    r.mode === "open"
      ? `${r.url}: open loop at ${r.offered_rps} req/s for ${r.duration_s} s over up to ${r.connections} connections`
      : `${r.url}: closed loop, ${r.connections} clients back to back for ${r.duration_s} s`;
  lines.push(head);
  lines.push(`  sent ${r.sent}, answered ${r.completed}; goodput ${f(r.goodput_rps)} 2xx/s, throughput ${f(r.throughput_rps)} resp/s`);
  lines.push(
    `  status: ${
      Object.entries(r.status)
        .map(([k, v]) => `${k}=${v}`)
        .join("  ") || "(none)"
    }`,
  );
  if (Object.keys(r.errors).length > 0)
    lines.push(
      `  connection errors: ${Object.entries(r.errors)
        .map(([k, v]) => `${k}=${v}`)
        .join("  ")}`,
    );
  const a = r.latency_ms.all;
  const ok = r.latency_ms.ok;
  lines.push(`  latency all  ms: p50 ${f(a.p50)}  p90 ${f(a.p90)}  p95 ${f(a.p95)}  p99 ${f(a.p99)}  p99.9 ${f(a.p999)}  max ${f(a.max)}`);
  lines.push(`  latency 2xx  ms: p50 ${f(ok.p50)}  p90 ${f(ok.p90)}  p95 ${f(ok.p95)}  p99 ${f(ok.p99)}  p99.9 ${f(ok.p999)}  max ${f(ok.max)}`);
  for (const [code, s] of Object.entries(r.latency_ms.by_status)) {
    if (code.startsWith("2")) continue;
    lines.push(`  latency ${code}  ms: p50 ${f(s.p50)}  p99 ${f(s.p99)}  max ${f(s.max)}`);
  }
  if (r.mode === "open") {
    lines.push(`  generator schedule lag ms: p50 ${f(r.schedule_lag_ms.p50)}  p99 ${f(r.schedule_lag_ms.p99)}  max ${f(r.schedule_lag_ms.max)}`);
    if (r.schedule_lag_ms.p99 > 50) {
      lines.push(
        "  WARNING: the load generator fell behind its own schedule (p99 lag above 50 ms): it is CPU-starved, so part of the latency above is the client's, not the server's. Run it on another machine or lower --rate.",
      );
    }
    if (r.client_queued > 0) {
      lines.push(
        `  note: ${r.client_queued} requests waited for a free client connection (all ${r.connections} busy); their wait counts in the latency. Raise --connections to offer more concurrency.`,
      );
    }
  }
  if (server) lines.push(...formatServer(server));
  lines.push(...formatVerdicts(verdicts));
  return `${lines.join("\n")}\n`;
}
