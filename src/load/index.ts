/** load/ — open- and closed-loop load generator with HDR latency histograms and SLO verdicts. */
export { runLoad } from "./run-load.js";
export { parseSlo, evaluateSlo, type SloTerm, type SloVerdict } from "./slo.js";
export { formatSummary } from "./summary.js";
export type { LatencySummary } from "./latency-histogram.js";
export type { LoadOptions, LoadResult, RequestSpec } from "./types.js";
