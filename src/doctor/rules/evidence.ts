/** Helpers the rules share to describe evidence: windows, status breakdowns, samples. */
import type { Correlation, Dataset, Located, ProxyErrorRecord, Sample, TimeWindow } from "../types.js";

/** "14:02:03" in UTC, the zone the JSON logs are in. */
export function clock(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString().slice(11, 19) : "?";
}

/** "between 14:02:03 and 14:09:10 UTC" for a window. */
export function between(w: TimeWindow | undefined): string {
  if (!w) return "";
  const day = Number.isFinite(w.from) ? new Date(w.from).toISOString().slice(0, 10) : "";
  if (clock(w.from) === clock(w.to)) return `at ${clock(w.from)} UTC${day ? ` on ${day}` : ""}`;
  return `between ${clock(w.from)} and ${clock(w.to)} UTC${day ? ` on ${day}` : ""}`;
}

/** Smallest window holding every finite time. */
export function windowOfTimes(times: Iterable<number>): TimeWindow | undefined {
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const t of times) {
    if (!Number.isFinite(t)) continue;
    if (t < from) from = t;
    if (t > to) to = t;
  }
  return from <= to ? { from, to } : undefined;
}

/** The error-log line joined to the first of `hits` that has one, as a sample to quote (empty when none has). */
export function firstErrorLine(data: Dataset, corr: Correlation, hits: number[]): Located<ProxyErrorRecord>[] {
  for (const i of hits) {
    const j = corr.errorLine[i] ?? -1;
    if (j >= 0) return [data.proxyErrors[j] as Located<ProxyErrorRecord>];
  }
  return [];
}

/** Window of the given failures. */
export function failureWindow(data: Dataset, idx: Iterable<number>): TimeWindow | undefined {
  const times: number[] = [];
  for (const i of idx) times.push((data.failures[i] as Located<{ time: number }>).record.time);
  return windowOfTimes(times);
}

/** Counts of failures by status, e.g. { "502": 412, "504": 18 }. */
export function statusCounts(data: Dataset, idx: Iterable<number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of idx) {
    const s = String((data.failures[i] as Located<{ status: number }>).record.status);
    out[s] = (out[s] ?? 0) + 1;
  }
  return out;
}

/** "412 502s and 18 504s" */
export function describeStatuses(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([s, n]) => `${n} ${s}${n === 1 ? "" : "s"}`);
  if (parts.length <= 1) return parts[0] ?? "0 failures";
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

/** Total of proxy failures with a given status set (for "412 of 430 502s"). */
export function totalWithStatus(data: Dataset, statuses: string[]): number {
  return statuses.reduce((n, s) => n + (data.statusCounts[s] ?? 0), 0);
}

/** One frame of a stack trace (Node, Java, Python, Ruby): where, not what. */
const STACK_FRAME = /^\s+(?:at |File "|from \/|\.\.\. \d+ more)|^\s+.*\.rb:\d+:in |^\s*\d+: 0x[0-9a-f]+ /;

/** A sample from a located record; an event of several lines (a traceback) is quoted as its first and last line. */
export function sample(l: Located<unknown>): Sample {
  let text = l.text;
  if (text.includes("\n")) {
    // First and last lines that say something: a banner of dashes says nothing, and a stack
    // frame ("at …", "File …") hides the exception a Node or Java trace names above it.
    const lines = text.split("\n").filter((x, i) => /[A-Za-z]/.test(x) && (i === 0 || !STACK_FRAME.test(x)));
    const first = lines[0] ?? "";
    const last = (lines[lines.length - 1] ?? "").trim();
    text = lines.length > 1 ? `${first} … ${last}` : first;
  }
  return { file: l.file, line: l.line, text: text.length > 400 ? `${text.slice(0, 400)}…` : text };
}

/**
 * Up to `max` samples: the first supporting lines, then the first failures. A line is quoted once
 * even when it is both (a failure inferred from the error-log line that supports it).
 */
export function samples(data: Dataset, idx: Iterable<number>, support: Located<unknown>[] = [], max = 3): Sample[] {
  const out: Sample[] = [];
  const seen = new Set<string>();
  const add = (l: Located<unknown>) => {
    const k = `${l.file}:${l.line}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push(sample(l));
  };
  for (const l of support) {
    if (out.length >= Math.min(2, max)) break;
    add(l);
  }
  for (const i of idx) {
    if (out.length >= max) break;
    add(data.failures[i] as Located<unknown>);
  }
  return out;
}

/** Logs that end this long before a live probe ran are a post-mortem: the probe says nothing about them. */
const STALE_MS = 30 * 60_000;

/**
 * How to word a live probe's result: "now (probed at 16:40:12 UTC)", and whether the logs are
 * old enough that the probe is no evidence about them (then the finding is info, and says so).
 */
export function probeTime(data: Dataset, at: number | undefined): { now: string; stale: boolean; note: string } {
  const now = at !== undefined ? `now (probed at ${clock(at)} UTC)` : "now";
  const end = logsEnd(data);
  const stale = at !== undefined && Number.isFinite(end) && at - end > STALE_MS;
  const note = stale
    ? ` The logs end at ${clock(end)} UTC on ${new Date(end).toISOString().slice(0, 10)}, ${Math.round((at - end) / 3_600_000)} h before: this is the host today, not evidence about the incident in the logs.`
    : "";
  return { now, stale, note };
}

/** Time of the last record in the logs (NaN without logs): a probe result is about now, the logs may be old. */
export function logsEnd(data: Dataset): number {
  let t = Number.NaN;
  for (const list of [data.failures, data.proxyErrors, data.appEvents] as { record: { time: number } }[][]) {
    const last = list[list.length - 1]?.record.time;
    if (last !== undefined && Number.isFinite(last) && !(last <= t)) t = last;
  }
  return t;
}

/** Distinct values of a number field over events, e.g. pids. */
export function distinct(values: Iterable<unknown>): string[] {
  const s = new Set<string>();
  for (const v of values) if (v !== undefined && v !== null) s.add(String(v));
  return [...s];
}

/** Share of failures with the given statuses that `n` accounts for: "412 of 430 502s". */
export function ofTotal(data: Dataset, counts: Record<string, number>): string {
  const statuses = Object.keys(counts);
  const n = Object.values(counts).reduce((a, b) => a + b, 0);
  const total = totalWithStatus(data, statuses);
  const label = statuses.length === 1 ? `${statuses[0]}s` : `${statuses.join("/")}s`;
  return total > n ? `${n} of ${total} ${label}` : `${n} ${label}`;
}
