/**
 * The common shape of rules that pin failures on app events (pool timeouts, SQLite locks, …):
 * select the events, match failures by request id or time, and describe the result.
 */
import { claim, type Correlation, type FailureKind, failuresNear } from "../correlate.js";
import type { AppRecord, Dataset, Finding, Fix, Located, Rule, Severity } from "../types.js";
import { between, failureWindow, ofTotal, samples, statusCounts, windowOfTimes } from "./evidence.js";

/** What an app-event rule needs to say. */
export interface AppEventRuleSpec {
  id: string;
  title: string;
  severity: Severity;
  events: (e: AppRecord) => boolean;
  /** Name used in the summary, e.g. "pool.timeout". */
  eventLabel: string;
  /** Failure kinds this cause can produce at the proxy. */
  kinds?: FailureKind[];
  /** How long before the event a failure may be logged; covers $time_local cut to the second. Default 1500. */
  beforeMs?: number;
  afterMs?: number;
  /** Extra sentence after the numbers. */
  detail?: (events: Located<AppRecord>[]) => string;
  fix: Fix;
}

const DEFAULT_KINDS: FailureKind[] = ["app-5xx", "read-timeout", "unknown"];

/** Runs an app-event rule; no finding when no event matched. */
export function appEventFinding(data: Dataset, corr: Correlation, spec: AppEventRuleSpec): Finding[] {
  const events = data.appEvents.filter((e) => spec.events(e.record));
  if (events.length === 0) return [];
  const kinds = new Set(spec.kinds ?? DEFAULT_KINDS);
  const hits = failuresNear(data, corr, events, spec.beforeMs ?? 1500, spec.afterMs ?? 2000, (i) => kinds.has(corr.kinds[i] as FailureKind) && !corr.deathClaimed.has(i));
  const counts = statusCounts(data, hits);
  const w = failureWindow(data, hits) ?? windowOfTimes(events.map((e) => e.record.time));
  const head =
    hits.size > 0
      ? `${ofTotal(data, counts)} ${between(w)} follow ${events.length} ${spec.eventLabel} event${events.length === 1 ? "" : "s"}.`
      : `${events.length} ${spec.eventLabel} event${events.length === 1 ? "" : "s"} ${between(w)}${data.proxyRequests > 0 ? "; no proxy failure matched them by time or request id" : " (no proxy log given, so failed requests were not counted)"}.`;
  return [
    claim(corr, {
      id: spec.id,
      title: spec.title,
      severity: spec.severity,
      confidence: hits.size > 0 ? 0.85 : 0.6,
      explains: hits.size,
      evidence: {
        summary: `${head}${spec.detail ? ` ${spec.detail(events)}` : ""}`,
        counts: { ...counts, events: events.length },
        window: w,
        samples: samples(data, hits, events.slice(0, 2)),
      },
      fix: spec.fix,
    }, hits),
  ];
}

/** A rule that is nothing but {@link appEventFinding} with a fixed spec; its id is the spec's. */
export function appEventRule(summary: string, spec: AppEventRuleSpec): Rule {
  return { id: spec.id, summary, run: (data, corr) => appEventFinding(data, corr, spec) };
}

/** Numeric field values of events. */
export function numbers(events: Located<AppRecord>[], field: string): number[] {
  const out: number[] = [];
  for (const e of events) {
    const v = e.record.fields[field];
    if (typeof v === "number" && Number.isFinite(v)) out.push(v);
  }
  return out;
}

/** Largest value, or undefined. */
export function max(values: number[]): number | undefined {
  return values.length ? values.reduce((a, b) => Math.max(a, b)) : undefined;
}
