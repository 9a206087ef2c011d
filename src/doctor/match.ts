/**
 * Joins app events to failed proxy requests when the two sides share no request id: by the
 * request's lifetime (the proxy logs when it ended and how long it took, so when it started is
 * known), by method and path where the app logged them, and by the lag pattern — when the app's
 * own wait (busy timeout, pool acquire timeout) is longer than the proxy's read timeout, the app
 * logs its error a near-constant delay *after* the proxy's 504, which no fixed window sees.
 */
import type { AppRecord, Dataset, Located, MatchPair, ProxyRecord } from "./types.js";

/** max − min of a list of any length (Math.max(...xs) overflows the stack past ~100 000 values: a big log). */
export function spreadOf(xs: readonly number[]): number {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return xs.length ? hi - lo : 0;
}

/** When a failed request ran, as well as the proxy's log tells. */
export interface Span {
  /** Epoch ms the request started; undefined when the log has no request time. */
  start: number | undefined;
  /** Epoch ms the proxy ended it (start of the second when the log has whole seconds only). */
  end: number;
}

/** The request span of a proxy record: nginx and ALB log the end time, HAProxy the accept time. */
export function requestSpan(r: ProxyRecord): Span {
  const dur = r.requestTime ?? (r.upstreamTime !== undefined && r.upstreamTime >= 0 ? r.upstreamTime : undefined);
  if (r.source === "haproxy") return { start: r.time, end: dur !== undefined ? r.time + dur * 1000 : r.time };
  return { start: dur !== undefined ? r.time - dur * 1000 : undefined, end: r.time };
}

/** The near-constant delay between failures and the app's later errors, when there is one. */
export interface LagPattern {
  /** Median of event time − failure end over the pairs in the peak, ms. */
  lagMs: number;
  /** Max − min of those lags, ms. */
  spreadMs: number;
  /** Pairs in the peak. */
  pairs: number;
  /** Median of event time − request start, ms, over pairs whose start is known: the app's own wait. */
  sinceStartMs?: number | undefined;
}

/** What {@link matchEvents} found. */
export interface MatchResult {
  /** Every failure joined to at least one event. */
  hits: Set<number>;
  /** The pairs (one per failure, the closest), for the link evidence. */
  pairs: MatchPair[];
  lag?: LagPattern | undefined;
}

/** Options of {@link matchEvents}. */
export interface MatchOptions {
  /** Failures that this kind of event can explain. */
  accept: (i: number) => boolean;
  /** True when each event stands for one request (a lock error); false when one event hits many (an event-loop stall). */
  perRequest?: boolean | undefined;
  /** How long before the request's start an event may still belong to it (a stall that began earlier), ms. Default 2000. */
  beforeStartMs?: number | undefined;
  /** How long after a request ended an event may still be logged for it without a lag pattern (a stall logged when it ends), ms. Default {@link SKEW_MS}. */
  afterEndMs?: number | undefined;
  /** Longest wait after the proxy ended a request that the app's later error is still looked for. Default 120 s. */
  maxLagMs?: number | undefined;
}

/** Clock skew between the proxy's and the app's clocks that the lifetime join tolerates, ms. */
export const SKEW_MS = 2000;
/** Width of the window that finds the lag peak: one second of `$time_local` plus jitter. */
const PEAK_WIDTH_MS = 1500;
/** Events looked at to find the lag pattern; enough for a clear peak, bounded for huge logs. */
const PATTERN_SAMPLE = 4000;
/** Candidate failures looked at per event. */
const MAX_CANDIDATES = 400;
/** Candidate pairs kept per event after scoring. */
const MAX_KEPT = 32;

/** True when every failure time is a whole second (`$time_local`, HAProxy without ms). */
export function wholeSeconds(data: Dataset): boolean {
  for (let i = 0; i < data.failures.length && i < 500; i++) if ((data.failures[i] as Located<ProxyRecord>).record.time % 1000 !== 0) return false;
  return true;
}

interface Sorted {
  /** Failure indices sorted by end time. */
  idx: number[];
  ends: number[];
  starts: (number | undefined)[];
}

function sortedByEnd(data: Dataset, accept: (i: number) => boolean, resolution: number): Sorted {
  const rows: { i: number; end: number; start: number | undefined }[] = [];
  data.failures.forEach((f, i) => {
    if (!accept(i)) return;
    const s = requestSpan(f.record);
    if (!Number.isFinite(s.end)) return;
    // A time cut to the second stands for any moment in that second: take its middle.
    const half = resolution / 2;
    rows.push({ i, end: s.end + half, start: s.start !== undefined ? s.start + half : undefined });
  });
  rows.sort((a, b) => a.end - b.end);
  return { idx: rows.map((r) => r.i), ends: rows.map((r) => r.end), starts: rows.map((r) => r.start) };
}

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sameRequest(e: AppRecord, f: ProxyRecord): boolean {
  if (e.path !== undefined && f.path !== undefined && e.path !== f.path) return false;
  if (e.method !== undefined && f.method !== undefined && e.method.toUpperCase() !== f.method.toUpperCase()) return false;
  return true;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Finds the lag peak: the delay after the proxy's end at which far more events sit than chance
 * would put there. Returns the peak window's lower edge, or undefined when there is no clear peak.
 */
export function findLagPeak(lags: number[], eventCount: number, failureCount: number): { from: number; to: number } | undefined {
  if (lags.length < 2) return undefined;
  const s = [...lags].sort((a, b) => a - b);
  let best = 0;
  let bestAt = 0;
  let j = 0;
  for (let i = 0; i < s.length; i++) {
    while ((s[i] as number) - (s[j] as number) > PEAK_WIDTH_MS) j++;
    if (i - j + 1 > best) {
      best = i - j + 1;
      bestAt = j;
    }
  }
  const from = s[bestAt] as number;
  const to = from + PEAK_WIDTH_MS;
  // Background: how many lags a window of the same width holds on average over the searched range.
  const range = Math.max(PEAK_WIDTH_MS, (s[s.length - 1] as number) - (s[0] as number));
  const background = (s.length * PEAK_WIDTH_MS) / range;
  const excess = best - background;
  const need = Math.max(2, 0.3 * Math.min(eventCount, failureCount));
  return excess >= need && best >= 2 * background ? { from, to } : undefined;
}

/**
 * Joins `events` to failures: by request id, then by the lag pattern (one event per failure,
 * closest to the peak first), then by lifetime — the event fell while the request was open, give
 * or take {@link SKEW_MS} and the log's time resolution.
 */
export function matchEvents(data: Dataset, byReqId: Map<string, number>, events: Located<AppRecord>[], o: MatchOptions): MatchResult {
  const hits = new Set<number>();
  const pairs: MatchPair[] = [];
  const perRequest = o.perRequest ?? true;
  const maxLag = o.maxLagMs ?? 120_000;
  const beforeStart = o.beforeStartMs ?? 2000;
  const afterEnd = o.afterEndMs ?? SKEW_MS;
  const resolution = wholeSeconds(data) ? 1000 : 1;
  const sorted = sortedByEnd(data, o.accept, resolution);
  const rest: Located<AppRecord>[] = [];
  for (const e of events) {
    const id = e.record.reqId ?? (typeof e.record.fields.reqId === "string" ? e.record.fields.reqId : undefined);
    const hit = id !== undefined ? byReqId.get(id) : undefined;
    if (hit === undefined) {
      rest.push(e);
      continue;
    }
    if (!o.accept(hit)) continue;
    hits.add(hit);
    const f = data.failures[hit] as Located<ProxyRecord>;
    const s = requestSpan(f.record);
    pairs.push({
      failure: hit,
      event: e,
      lagMs: e.record.time - s.end,
      sinceStartMs: s.start !== undefined ? e.record.time - s.start : undefined,
      by: "request-id",
    });
  }
  if (rest.length === 0 || sorted.idx.length === 0) return { hits, pairs };

  // 0. Events that know when the app began the request (an app request line with its duration):
  // the proxy's start of the same request is the same moment, give or take the clocks' skew.
  const unpaired = joinByStart(data, sorted, [...rest], resolution, hits, pairs);
  rest.length = 0;
  rest.push(...unpaired);
  if (rest.length === 0) return { hits, pairs, lag: startLag(pairs) };

  // Candidates of one event: failures that ended up to maxLag before it (nearest first), and
  // failures that ended after it whose lifetime (plus skew) may hold it.
  let maxDur = 0;
  sorted.idx.forEach((_i, k) => {
    const st = sorted.starts[k];
    if (st !== undefined) maxDur = Math.max(maxDur, Math.min(300_000, (sorted.ends[k] as number) - st));
  });
  const candidates = (e: Located<AppRecord>, fn: (k: number, lag: number) => void) => {
    const t = e.record.time;
    const k0 = lowerBound(sorted.ends, t);
    const visit = (k: number): boolean => {
      if (!sameRequest(e.record, (data.failures[sorted.idx[k] as number] as Located<ProxyRecord>).record)) return false;
      fn(k, t - (sorted.ends[k] as number));
      return true;
    };
    let n = 0;
    for (let k = k0 - 1; k >= 0 && t - (sorted.ends[k] as number) <= maxLag && n < MAX_CANDIDATES; k--) if (visit(k)) n++;
    n = 0;
    const horizon = t + maxDur + beforeStart + SKEW_MS + resolution;
    for (let k = k0; k < sorted.ends.length && (sorted.ends[k] as number) <= horizon && n < MAX_CANDIDATES / 4; k++) if (visit(k)) n++;
  };

  // 1. The lag pattern, from a sample of the events.
  const step = Math.max(1, Math.floor(rest.length / PATTERN_SAMPLE));
  const lags: number[] = [];
  let sampled = 0;
  for (let x = 0; x < rest.length; x += step) {
    sampled++;
    candidates(rest[x] as Located<AppRecord>, (_k, lag) => lags.push(lag));
  }
  const peak = findLagPeak(lags, sampled, sorted.idx.length);
  const inPeak = (lag: number) => peak !== undefined && lag >= peak.from - 250 && lag <= peak.to + 250;
  const lifetime = (k: number, t: number, lag: number) => {
    const start = sorted.starts[k];
    // Old behaviour when the start is unknown: up to 2 s either side of the end.
    if (start === undefined) return lag >= -SKEW_MS - resolution && lag <= afterEnd + resolution / 2;
    return t >= start - beforeStart - SKEW_MS && lag <= afterEnd + resolution / 2;
  };

  type Scored = { k: number; e: Located<AppRecord>; lag: number; score: number; by: MatchPair["by"] };
  const scored: Scored[] = [];
  const mine: Scored[] = [];
  for (const e of rest) {
    mine.length = 0;
    candidates(e, (k, lag) => {
      if (inPeak(lag)) mine.push({ k, e, lag, score: Math.abs(lag - ((peak?.from ?? 0) + PEAK_WIDTH_MS / 2)), by: "lag-pattern" });
      else if (lifetime(k, e.record.time, lag)) mine.push({ k, e, lag, score: 10_000_000 + Math.abs(lag), by: "lifetime" });
    });
    // Dense failures give an event hundreds of candidates; for a per-request error the closest few are all it can be.
    if (perRequest && mine.length > MAX_KEPT) mine.sort((a, b) => a.score - b.score).length = MAX_KEPT;
    scored.push(...mine);
  }
  scored.sort((a, b) => a.score - b.score);
  const usedEvents = new Set<Located<AppRecord>>();
  const paired = new Set<number>();
  const peakPairs: { lag: number; sinceStart?: number | undefined }[] = [];
  for (const c of scored) {
    const i = sorted.idx[c.k] as number;
    // One event per request for per-request errors matched by the lag; the lifetime join may share
    // (a log that writes one line for a burst of failures still explains them).
    if (c.by === "lag-pattern" && (usedEvents.has(c.e) || paired.has(i))) continue;
    if (c.by === "lifetime" && perRequest && paired.has(i)) continue;
    hits.add(i);
    const start = sorted.starts[c.k];
    const sinceStart = start !== undefined ? c.e.record.time - start : undefined;
    if (!paired.has(i)) pairs.push({ failure: i, event: c.e, lagMs: c.lag, sinceStartMs: sinceStart, by: c.by });
    paired.add(i);
    if (c.by === "lag-pattern") {
      usedEvents.add(c.e);
      peakPairs.push({ lag: c.lag, sinceStart });
    }
  }
  let lag: LagPattern | undefined;
  if (peak && peakPairs.length >= 2) {
    const ls = peakPairs.map((p) => p.lag);
    const ss = peakPairs.map((p) => p.sinceStart).filter((v): v is number => v !== undefined);
    lag = {
      lagMs: Math.round(median(ls)),
      spreadMs: Math.round(spreadOf(ls)),
      pairs: peakPairs.length,
      sinceStartMs: ss.length ? Math.round(median(ss)) : undefined,
    };
  }
  return { hits, pairs, lag: lag ?? startLag(pairs) };
}

/** Largest difference between the app's and the proxy's start of one request that can still be the same request (skew). */
const START_SKEW_MS = 10_000;

/**
 * Joins events that carry the app's start of their request (`startedAt`) to failures whose start
 * is known: the start differences peak at the clocks' skew; pairs in the peak are joined one to
 * one, closest first. Without a clear peak (few events), a pair within 1.5 s is joined. Returns the
 * events left unpaired.
 */
function joinByStart(
  data: Dataset,
  sorted: Sorted,
  events: Located<AppRecord>[],
  resolution: number,
  hits: Set<number>,
  pairs: MatchPair[],
): Located<AppRecord>[] {
  const withStart = events.filter((e) => e.record.startedAt !== undefined && Number.isFinite(e.record.startedAt));
  if (withStart.length === 0) return events;
  const byStart: { k: number; start: number }[] = [];
  sorted.idx.forEach((_i, k) => {
    const st = sorted.starts[k];
    if (st !== undefined) byStart.push({ k, start: st });
  });
  if (byStart.length === 0) return events;
  byStart.sort((a, b) => a.start - b.start);
  const starts = byStart.map((b) => b.start);
  const cands: { e: Located<AppRecord>; k: number; d: number }[] = [];
  for (const e of withStart) {
    const a = e.record.startedAt as number;
    for (let x = lowerBound(starts, a - START_SKEW_MS); x < byStart.length && (starts[x] as number) <= a + START_SKEW_MS; x++) {
      const b = byStart[x] as { k: number; start: number };
      if (!sameRequest(e.record, (data.failures[sorted.idx[b.k] as number] as Located<ProxyRecord>).record)) continue;
      cands.push({ e, k: b.k, d: a - b.start });
    }
  }
  const peak = findLagPeak(
    cands.map((c) => c.d),
    withStart.length,
    byStart.length,
  );
  const centre = peak ? peak.from + PEAK_WIDTH_MS / 2 : 0;
  const reach = peak ? PEAK_WIDTH_MS / 2 + 250 : PEAK_WIDTH_MS + resolution / 2;
  const ok = cands.filter((c) => Math.abs(c.d - centre) <= reach).sort((a, b) => Math.abs(a.d - centre) - Math.abs(b.d - centre));
  const usedE = new Set<Located<AppRecord>>();
  const usedF = new Set<number>();
  for (const c of ok) {
    const i = sorted.idx[c.k] as number;
    if (usedE.has(c.e) || usedF.has(i) || hits.has(i)) continue;
    usedE.add(c.e);
    usedF.add(i);
    hits.add(i);
    const start = sorted.starts[c.k] as number;
    pairs.push({ failure: i, event: c.e, lagMs: c.e.record.time - (sorted.ends[c.k] as number), sinceStartMs: c.e.record.time - start, by: "request-start" });
  }
  return events.filter((e) => !usedE.has(e));
}

/** The lag pattern of start-joined pairs, when there are at least two. */
function startLag(pairs: MatchPair[]): LagPattern | undefined {
  const p = pairs.filter((x) => x.by === "request-start");
  if (p.length < 2) return undefined;
  const ls = p.map((x) => x.lagMs);
  const ss = p.map((x) => x.sinceStartMs).filter((v): v is number => v !== undefined);
  return { lagMs: Math.round(median(ls)), spreadMs: Math.round(spreadOf(ls)), pairs: p.length, sinceStartMs: ss.length ? Math.round(median(ss)) : undefined };
}
