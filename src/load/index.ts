/** load/ — open- and closed-loop load generator with HDR latency histograms, SLO verdicts (client and server side), progress, JSON and HTML reports. */
export { runLoad } from "./run-load.js";
export { parseSlo, evaluateSlo, percentilesNeeded, SLO_PRESETS, type SloTerm, type SloVerdict, type SloUnit } from "./slo.js";
export { formatSummary, formatVerdicts, formatInUnit } from "./summary.js";
export { parseLoadDuration } from "./load-duration.js";
export { ProgressLine, progressText, type ProgressSink } from "./progress.js";
export { AdminSampler, type AdminSamplerOptions } from "./admin-sampler.js";
export { loadScenario, buildScenario, ScenarioError, type Scenario } from "./scenario.js";
export { renderReport, type ReportInput } from "./html-report.js";
export type { ServerSummary, ServerSample, ServerInstanceSummary } from "./server-summary.js";
export type { LatencySummary } from "./latency-histogram.js";
export type { LoadOptions, LoadResult, Progress, RequestSpec, Stage, TimelinePoint } from "./types.js";
