/**
 * doctor/ — diagnoses 502/504s: log readers, probes, rules, ranked findings with evidence and fix, safe fixes.
 * Where each behaviour lives (one hop from here):
 *
 *   run.ts                 the doctor end to end: configs → logs → probes → rules → ranked findings
 *   collect.ts             every log into one Dataset (scan/ streams files, plain or gzip; readers/ parse lines)
 *   correlate.ts, match.ts what each failed request looked like; app events joined to proxy failures without ids
 *   stack.ts               which stack wrote the app log (gunicorn, knex, HikariCP, …), for fixes in its words
 *   analyze.ts, chains.ts  run the rules, link findings into causal chains, rank them
 *   types.ts               Finding, Dataset, Rule and the records; dataset-from-lines.ts, recorded-lines.ts for tests
 * readers/ (one per log kind), probes/ (admin, PostgreSQL, SQLite, system), proxy-config/ (nginx, HAProxy
 *   timeouts), rules/ (the catalogue in rules/index.ts; evidence.ts, app-event-rule.ts, stack-fixes.ts
 *   shared), report/ (text, Markdown, JSON), fix/ (plan and apply --fix)
 */
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
