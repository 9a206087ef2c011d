/**
 * bench:overload's results: one stage's JSON line, the per-stack summary with the overload issue's
 * targets, and the Markdown table docs/benchmarks.md quotes. Pure functions of the stage results.
 */
import type { LoadResult } from "../../src/load/index.js";
import { ratio } from "../support.js";

/** The two stacks the bench compares. */
export type Stack = "naive" | "holdfast";

/** CPU ms per answer, two decimals; null when nothing was answered. */
export function perAnswer(cpuMs: number, a: number, b: number): number | null {
  return a + b > 0 ? Math.round((cpuMs / (a + b)) * 100) / 100 : null;
}

/** One JSON line of the bench: the load result's headline keys plus what the stage saw around it. */
export interface StageResult
  extends Pick<LoadResult, "offered_rps" | "status" | "errors" | "goodput_rps" | "p50_ms" | "p99_ms" | "sent" | "duration_s" | "client_queued"> {
  stack: Stack;
  multiple: number;
  generator_lag_p99_ms: number;
  generator_lag_max_ms: number;
  latency_503_p99_ms: number | null;
  /** The generator kept its schedule (lag p99 ≤ 20 ms, no request waited for a client connection): only then is the stage a result. */
  valid: boolean;
  connections: number;
  nginx_upstream_timeouts: number;
  nginx_upstream_errors: number;
  load_avg_1m: number;
  /**
   * Offered rate over this stack's own measured closed-loop capacity (absent with --capacity): the
   * multiples are of the naive stack's capacity, so a faster stack meets a lighter load than its name says.
   */
  offered_vs_own_capacity?: number;
  /** The slow spell made on purpose (--hog), when there was one: from at_s into the stage, for for_s. */
  hog?: { at_s: number; for_s: number };
  /** Server CPU ms (all processes and threads of the stack) per 2xx, and per answer of any status: robust to a busy machine. */
  server_cpu_ms_per_2xx?: number | null;
  server_cpu_ms_per_answer?: number | null;
}

/** The stages as the Markdown table docs/benchmarks.md quotes (printed to stderr at the end). */
export function markdownTable(rs: StageResult[]): string {
  const head =
    "| stack | load | offered req/s | × own capacity | valid | 2xx | 503 | 502 | 504 | conn. errors | goodput 2xx/s | p50 2xx ms | p99 2xx ms | 503 p99 ms | generator lag p99 ms | client-queued | load avg |";
  const rows = rs.map((r) => {
    const ok = Object.entries(r.status).reduce((a, [k, n]) => a + (k.startsWith("2") ? n : 0), 0);
    const cells = [
      r.stack,
      `${r.multiple}×`,
      r.offered_rps,
      r.offered_vs_own_capacity ?? "–",
      r.valid ? "yes" : "**no**",
      ok,
      r.status["503"] ?? 0,
      r.status["502"] ?? 0,
      r.status["504"] ?? 0,
      r.status.error ?? 0,
      r.goodput_rps,
      r.p50_ms,
      r.p99_ms,
      r.latency_503_p99_ms ?? "–",
      r.generator_lag_p99_ms,
      r.client_queued,
      r.load_avg_1m,
    ];
    return `| ${cells.join(" | ")} |`;
  });
  return [head, `|${"---|".repeat(17)}`, ...rows].join("\n");
}

/** The stages at the highest and the lowest multiple. */
function extremes(rs: StageResult[]): { top: StageResult | undefined; low: StageResult | undefined } {
  const top = rs.reduce<StageResult | undefined>((a, r) => (!a || r.multiple > a.multiple ? r : a), undefined);
  const low = rs.reduce<StageResult | undefined>((a, r) => (!a || r.multiple < a.multiple ? r : a), undefined);
  return { top, low };
}

/** Share of a stage's answers that were 503. */
function shedShare(r: StageResult): number {
  const total = Object.values(r.status).reduce((a, n) => a + n, 0);
  return total > 0 ? (r.status["503"] ?? 0) / total : 0;
}

/**
 * The overload issue's targets for one stack's stages, each true/false (null when the stage was
 * not run): no shedding at 0.5× (≤ 0.1 %), ≤ 1 % at 0.8×, no 502/504 from 1× up, goodput at the
 * top multiple ≥ 90 % of the best stage, admitted p99 at the top ≤ 3× the p99 at the lowest, 503s
 * answered with p99 ≤ 50 ms, and every stage valid (a figure from an invalid stage proves nothing).
 */
function targets(rs: StageResult[]): Record<string, boolean | null> {
  const at = (m: number) => rs.find((r) => r.multiple === m);
  const { top, low } = extremes(rs);
  const best = Math.max(...rs.map((r) => r.goodput_rps));
  const half = at(0.5);
  const eight = at(0.8);
  const high = rs.filter((r) => r.multiple >= 1);
  return {
    shed_at_0_5x_le_0_1pct: half ? shedShare(half) <= 0.001 : null,
    shed_at_0_8x_le_1pct: eight ? shedShare(eight) <= 0.01 : null,
    no_502_504_from_1x: high.length ? high.every((r) => (r.status["502"] ?? 0) + (r.status["504"] ?? 0) === 0) : null,
    goodput_top_ge_90pct_best: top && best > 0 ? top.goodput_rps >= 0.9 * best : null,
    p99_top_le_3x_low: top && low && low.p99_ms > 0 ? top.p99_ms <= 3 * low.p99_ms : null,
    latency_503_p99_le_50ms: rs.every((r) => r.latency_503_p99_ms === null || r.latency_503_p99_ms <= 50),
    all_stages_valid: rs.every((r) => r.valid),
  };
}

/** One stack's summary: totals, ratios against its own stages, valid stages and the targets. */
export function stackSummary(rs: StageResult[]): Record<string, unknown> {
  const peak = Math.max(...rs.map((r) => r.goodput_rps));
  const { top, low } = extremes(rs);
  return {
    "502": rs.reduce((a, r) => a + (r.status["502"] ?? 0), 0),
    "504": rs.reduce((a, r) => a + (r.status["504"] ?? 0), 0),
    errors: rs.reduce((a, r) => a + (r.status.error ?? 0), 0),
    goodput_top_vs_peak: top && peak > 0 ? ratio(top.goodput_rps, peak) : null,
    p99_top_vs_low: top && low && low.p99_ms > 0 ? Math.round((top.p99_ms / low.p99_ms) * 100) / 100 : null,
    max_generator_lag_p99_ms: Math.max(...rs.map((r) => r.generator_lag_p99_ms)),
    valid_stages: rs.filter((r) => r.valid).map((r) => r.multiple),
    targets: targets(rs),
  };
}
