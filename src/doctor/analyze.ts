/**
 * Runs every rule over a dataset, links the findings into causal chains and orders them: the
 * deepest cause with evidence first, each symptom under the cause that produces it.
 */
import { ancestors, applyLinks, chainOrder, markedDownLinks, sharedFailureLinks } from "./chains.js";
import { correlate } from "./correlate.js";
import type { Correlation, Dataset, Finding, Rule, Severity } from "./types.js";
import { splitRequest } from "./readers/reader.js";
import { DOCTOR_RULES, leftovers } from "./rules/index.js";
import { timeoutInversion } from "./rules/timeout-inversion.js";

/** Severity order, worst first. */
export const SEVERITY_RANK: Record<Severity, number> = { critical: 0, error: 1, warning: 2, info: 3 };

/** Ranks findings: most failed requests explained first, then severity, then confidence. */
export function rankFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) => b.explains - a.explains || SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.confidence - a.confidence || a.id.localeCompare(b.id),
  );
}

const FAILING_KINDS = new Set([
  "upstream-closed",
  "upstream-reset",
  "connect-refused",
  "connect-timeout",
  "connect-eagain",
  "read-timeout",
  "no-live-upstreams",
  "header-too-big",
]);

/**
 * Without an access log, each upstream error in the nginx error log stands for one failed request
 * (504 for timeouts, 502 otherwise), so the rules can still count and correlate them.
 */
export function inferFailuresFromErrors(data: Dataset): void {
  if (data.proxyRequests > 0 || data.failures.length > 0) return;
  for (const e of data.proxyErrors) {
    const r = e.record;
    if (!FAILING_KINDS.has(r.kind)) continue;
    const status = r.kind === "read-timeout" || r.kind === "connect-timeout" ? 504 : 502;
    const { method, path } = splitRequest(r.request);
    data.failures.push({
      record: { source: "nginx-access", time: r.time, status, method, path, upstream: r.upstream },
      file: e.file,
      line: e.line,
      text: e.text,
    });
    data.statusCounts[String(status)] = (data.statusCounts[String(status)] ?? 0) + 1;
    data.failedTotal++;
    data.inferredFailures = true;
  }
}

/** Runs the rules (a rule that throws becomes an info finding, never a crash), links the chains and orders the result. */
export function analyze(data: Dataset, rules: readonly Rule[] = DOCTOR_RULES): Finding[] {
  inferFailuresFromErrors(data);
  const corr = correlate(data);
  const found: Finding[] = [];
  for (const rule of rules) {
    try {
      found.push(...rule.run(data, corr));
    } catch (err) {
      found.push(ruleFailed(rule.id, err));
    }
  }
  try {
    found.push(...timeoutInversion(data, corr, found));
  } catch (err) {
    found.push(ruleFailed("timeout-inversion", err));
  }
  applyLinks(found, [...sharedFailureLinks(found, corr, data), ...markedDownLinks(found, corr, data)]);
  const taken = new Set<number>();
  const counted = countOnce(
    chainOrder(found).map((p) => p.finding),
    corr,
    taken,
  );
  const all = [...counted, ...leftovers(data, counted, corr, taken)];
  applyLinks(all, []);
  return chainOrder(all).map((p) => p.finding);
}

function ruleFailed(id: string, err: unknown): Finding {
  return {
    id: `rule-failed/${id}`,
    title: `Rule ${id} failed`,
    severity: "info",
    confidence: 1,
    explains: 0,
    evidence: { summary: `The rule threw: ${(err as Error).message}. This is a bug in holdfast doctor; the other rules still ran.`, counts: {}, samples: [] },
    fix: { summary: "Report it with the log lines that triggered it." },
  };
}

/**
 * Counts each failed request under one chain only: findings in chain order take their failures
 * first; a later finding keeps what is left, except the failures it shares with a cause above it
 * in its own chain (a symptom and its cause explain the same requests). Without this, two
 * app-event causes close in time could both claim the same 503s.
 */
export function countOnce(ordered: Finding[], corr: Correlation, taken: Set<number> = new Set()): Finding[] {
  const byId = new Map(ordered.map((f) => [f.id, f]));
  const owner = new Map<number, string>();
  for (const f of ordered) {
    const mine = corr.claims.get(f);
    if (!mine) continue;
    const above = ancestors(f, byId);
    let own = 0;
    for (const i of mine) {
      const o = owner.get(i);
      if (o === undefined) {
        owner.set(i, f.id);
        taken.add(i);
        own++;
      } else if (above.has(o)) own++;
    }
    const shared = Math.min(f.explains, mine.size) - own;
    if (shared > 0) {
      f.explains = own;
      f.evidence.counts.countedUnderOtherCauses = shared;
      f.evidence.summary += ` (${shared} of these are counted under a cause ranked above.)`;
    }
  }
  return ordered;
}

/** Runs one rule as analyze() would (failures inferred, correlation built); for tests. */
export function runRule(rule: Rule, data: Dataset): Finding[] {
  inferFailuresFromErrors(data);
  return rule.run(data, correlate(data));
}

/** True when no finding is above info (exit code 0). */
export function isHealthy(findings: Finding[]): boolean {
  return findings.every((f) => f.severity === "info");
}
