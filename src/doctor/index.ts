/** doctor/ — diagnoses 502/504s: log readers, probes, rules, ranked findings with evidence and fix, safe fixes. */
export { runDoctor, type DoctorOptions, type DoctorResult } from "./run.js";
export { analyze, rankFindings, isHealthy } from "./analyze.js";
export { collectLogs, collectLines, emptyDataset, type LogInput, type CollectOptions } from "./collect.js";
export { UPSTREAM_TIMING_FORMAT } from "./recorded-lines.js";
export { DOCTOR_RULES } from "./rules/index.js";
export { toJson } from "./report/json.js";
export { toText, toMarkdown } from "./report/text.js";
export { planFixes, applyFixes, describePlan, describeOutcomes, type FixPlan, type FixStep, type FixOutcome } from "./fix/index.js";
export type { Finding, Severity, Dataset, Rule, LogKind, Sample, Evidence, Fix } from "./types.js";
export * as readers from "./readers/index.js";
