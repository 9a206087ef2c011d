/**
 * The common shape of rules that pin failures on app events (pool timeouts, SQLite locks, …):
 * select the events, match failures by request id or time, and describe the result.
 */
import { claim } from "../correlate.js";
import type { AppRecord, Correlation, Dataset, FailureKind, Finding, Fix, Located, Rule, Severity } from "../types.js";
import { type LagPattern, type MatchResult, matchEvents, requestSpan } from "../match.js";
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
  /** How long after a failed request ended its event may be logged without a lag pattern (a stall logged when it ends). Default 2 s. */
  beforeMs?: number;
  /** How long before a request started its cause may have begun. Default 2 s. */
  afterMs?: number;
  /** True (default) when each event stands for one failed request; false when one event hits many. */
  perRequest?: boolean;
  /** Extra sentence after the numbers. */
  detail?: (events: Located<AppRecord>[], match: MatchResult) => string;
  /** The fix, or a function of the data, the events (to name the stack's own options) and the failures they explain with their kinds. */
  fix: Fix | ((data: Dataset, events: Located<AppRecord>[], explained: Explained) => Fix);
}

/** The failures an app-event finding explains, with how the proxy saw each (for its fix). */
export interface Explained {
  hits: ReadonlySet<number>;
  kinds: readonly FailureKind[];
}

const DEFAULT_KINDS: FailureKind[] = ["app-5xx", "read-timeout", "unknown"];

/** Runs an app-event rule; no finding when no event matched. */
export function appEventFinding(data: Dataset, corr: Correlation, spec: AppEventRuleSpec): Finding[] {
  const events = data.appEvents.filter((e) => spec.events(e.record));
  if (events.length === 0) return [];
  const kinds = new Set(spec.kinds ?? DEFAULT_KINDS);
  const match = matchEvents(data, corr.byReqId, events, {
    accept: (i) => kinds.has(corr.kinds[i] as FailureKind) && !corr.deathClaimed.has(i),
    perRequest: spec.perRequest,
    afterEndMs: spec.beforeMs,
    beforeStartMs: spec.afterMs,
  });
  const hits = match.hits;
  const counts = statusCounts(data, hits);
  const w = failureWindow(data, hits) ?? windowOfTimes(events.map((e) => e.record.time));
  const head =
    hits.size > 0
      ? `${ofTotal(data, counts)} ${between(w)} match ${events.length} ${spec.eventLabel} event${events.length === 1 ? "" : "s"} (same request by id, or by time and path).`
      : `${events.length} ${spec.eventLabel} event${events.length === 1 ? "" : "s"} ${between(w)}${data.proxyRequests > 0 ? "; no proxy failure matched them by time or request id" : " (no proxy log given, so failed requests were not counted)"}.`;
  return [
    claim(
      corr,
      {
        id: spec.id,
        title: spec.title,
        severity: spec.severity,
        confidence: hits.size > 0 ? 0.85 : 0.6,
        explains: hits.size,
        evidence: {
          summary: `${head}${lagSentence(match.lag, spec.eventLabel)}${spec.detail ? ` ${spec.detail(events, match)}` : ""}`,
          counts: { ...counts, events: events.length },
          window: w,
          samples: samples(data, hits, events.slice(0, 2)),
        },
        fix: typeof spec.fix === "function" ? spec.fix(data, events, { hits, kinds: corr.kinds }) : spec.fix,
      },
      hits,
      match.pairs,
    ),
  ];
}

/** " Each came 2.0 s after the proxy ended the request (± 0.4 s, 12 pairs)." — only for a clear lag pattern away from zero. */
function lagSentence(lag: LagPattern | undefined, label: string): string {
  if (!lag || Math.abs(lag.lagMs) < 1000) return "";
  const when = lag.lagMs > 0 ? "after" : "before";
  return ` The ${label} errors came a near-constant ${(Math.abs(lag.lagMs) / 1000).toFixed(1)} s ${when} the proxy ended the request (spread ${(lag.spreadMs / 1000).toFixed(1)} s over ${lag.pairs} pairs)${lag.sinceStartMs !== undefined ? `, ${(lag.sinceStartMs / 1000).toFixed(1)} s after it started` : ""}.`;
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

/**
 * How long the app waited before it answered the explained failures itself, when it did for most
 * of them (503s it sent, not read timeouts at the proxy): the events' stated wait, else the
 * median time the proxy saw those requests take.
 */
export function sheddingWait(data: Dataset, events: Located<AppRecord>[], explained?: Explained): number | undefined {
  if (!explained || explained.hits.size === 0) return undefined;
  const took: number[] = [];
  let timedOut = 0;
  for (const i of explained.hits) {
    const k = explained.kinds[i];
    if (k === "read-timeout") timedOut++;
    if (k !== "app-5xx") continue;
    const f = data.failures[i]?.record;
    if (!f) continue;
    const sp = requestSpan(f);
    if (sp.start !== undefined) took.push(sp.end - sp.start);
  }
  if (took.length === 0 || took.length < 2 * timedOut) return undefined;
  const stated = numbers(events, "waitedMs").concat(numbers(events, "timeoutMs"), numbers(events, "acquireTimeoutMs"));
  const pick = stated.length ? stated : took;
  const s = [...pick].sort((a, b) => a - b);
  const m = s[s.length >> 1] as number;
  return m > 0 ? m : undefined;
}
