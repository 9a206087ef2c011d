/**
 * Correlation shared by the rules, computed once per run: what each failed request looked like
 * at the proxy (joined with the nginx error log by second and request line), and helpers that
 * match failures to app events by time window and by request id.
 */
import { requestSpan } from "./match.js";
import { splitRequest } from "./readers/reader.js";
import type { AppRecord, Correlation, Dataset, FailureKind, Finding, Located, MatchPair, ProxyErrorKind, ProxyRecord } from "./types.js";

/** Records the failures a finding explains (its `explains`) and the event pairs behind them; returns the finding. */
export function claim<F extends Finding>(corr: Correlation, finding: F, failures: Iterable<number>, pairs?: MatchPair[]): F {
  corr.claims.set(finding, new Set(failures));
  if (pairs) corr.pairs.set(finding, pairs);
  return finding;
}

function requestKey(second: number, method: string | undefined, path: string | undefined): string {
  return `${second}|${method ?? ""} ${path ?? ""}`;
}

/** Classifies a failure from its own record, when the proxy wrote enough (HAProxy, ALB, nginx timings). */
export function kindFromRecord(r: ProxyRecord, readTimeoutMs?: number): FailureKind {
  if (r.source === "haproxy" && r.termState) {
    const ts = r.termState.slice(0, 2);
    if (r.upstream?.includes("<NOSRV>")) return "no-live-upstreams";
    if (ts === "SC") return "connect-refused";
    if (ts === "sC") return "connect-timeout";
    if (ts === "SH" || ts === "SD") return "upstream-closed";
    if (ts === "sH" || ts === "sD") return "read-timeout";
    if (ts === "sQ") return "queue-timeout";
    if (ts === "PH") return "header-too-big";
    if (ts === "--" || ts === "CD" || ts === "CH") return "app-5xx";
    return "unknown";
  }
  if (r.source === "alb") {
    const er = r.errorReason ?? "";
    if (/TargetConnectionError/i.test(er)) return "connect-refused";
    if (/Timeout/i.test(er) || r.status === 504) return "read-timeout";
    if (/ResponseError|TargetReset|RST/i.test(er)) return "upstream-closed";
    if (r.upstreamStatus !== undefined && Number(r.upstreamStatus) >= 500) return "app-5xx";
    if (r.status === 503 && r.upstream === undefined) return "no-live-upstreams";
    if (r.status === 502 && r.upstreamStatus === undefined) return "upstream-closed";
    return "unknown";
  }
  // nginx without an error-log line: infer from the timings when the format has them.
  const last = r.upstreamStatus
    ?.split(/[,:]\s*/)
    .pop()
    ?.trim();
  if (last && /^5\d\d$/.test(last) && last !== "502" && last !== "504") return "app-5xx";
  if (last === String(r.status) && r.status !== 502 && r.status !== 504) return "app-5xx";
  // A 504 without the upstream's time (combined format) is the proxy's read timeout unless timings say it was short.
  if (r.status === 504 && (readTimeoutMs === undefined || r.upstreamTime === undefined || r.upstreamTime * 1000 >= readTimeoutMs * 0.9)) return "read-timeout";
  if (r.status === 503 && r.upstreamStatus === undefined) return "app-5xx";
  if (r.status === 500) return "app-5xx";
  return "unknown";
}

const QUARTER_HOUR = 15 * 60_000;

/**
 * nginx writes its error log in the server's local time and its access log with an explicit
 * offset; run elsewhere, the two disagree by whole hours and nothing joins. The offset is found by
 * voting: every error line with a request votes for the gap to each failed request with the same
 * method and path, when that gap is within 5 s of a whole quarter hour. A clear non-zero winner
 * shifts the error log (and is reported).
 */
export function alignErrorLogClock(data: Dataset): number {
  if (data.errorLogShiftMs !== undefined || data.proxyErrors.length === 0 || data.failures.length === 0) return data.errorLogShiftMs ?? 0;
  const byRequest = new Map<string, number[]>();
  for (const f of data.failures) {
    const k = `${f.record.method ?? ""} ${f.record.path ?? ""}`;
    const list = byRequest.get(k);
    if (!list) byRequest.set(k, [f.record.time]);
    else if (list.length < 200) list.push(f.record.time);
  }
  const votes = new Map<number, number>();
  for (const e of data.proxyErrors.slice(0, 5000)) {
    const { method, path } = splitRequest(e.record.request);
    for (const t of byRequest.get(`${method ?? ""} ${path ?? ""}`) ?? []) {
      const raw = t - e.record.time;
      const gap = Math.round(raw / QUARTER_HOUR) * QUARTER_HOUR;
      // Only near-exact zone offsets vote: unrelated requests on the same path are minutes apart at random.
      if (Math.abs(raw - gap) <= 5000 && Math.abs(gap) <= 14 * 3_600_000) votes.set(gap, (votes.get(gap) ?? 0) + 1);
    }
  }
  const shift = winningShift(votes);
  if (shift !== 0) for (const e of data.proxyErrors) e.record.time += shift;
  data.errorLogShiftMs = shift;
  return shift;
}

/**
 * The clock shift the votes (gap in ms → how many pairs of lines had it) agree on: a non-zero gap
 * with at least two votes and more than twice the votes of no shift at all; otherwise 0.
 */
function winningShift(votes: Map<number, number>): number {
  let best = 0;
  let bestVotes = votes.get(0) ?? 0;
  for (const [gap, n] of votes) {
    if (n > bestVotes) {
      best = gap;
      bestVotes = n;
    }
  }
  return best !== 0 && bestVotes >= 2 && bestVotes > 2 * (votes.get(0) ?? 0) ? best : 0;
}

/**
 * App logs written without a zone (Python's asctime, Rails) are read as the doctor's local time;
 * written on a server in another zone they are whole quarter hours off and nothing joins. As
 * for the error log, zoneless events vote for the gap to each failure that is within 90 s of a
 * whole quarter hour (90 s covers the app's own waits); a clear non-zero winner shifts them.
 */
export function alignAppLogClock(data: Dataset): number {
  if (data.appLogShiftMs !== undefined) return data.appLogShiftMs;
  const zoneless = data.appEvents.filter((e) => e.record.zoneless && Number.isFinite(e.record.time));
  if (zoneless.length === 0 || data.failures.length === 0) {
    data.appLogShiftMs = 0;
    return 0;
  }
  const step = Math.max(1, Math.floor(zoneless.length / 300));
  const fstep = Math.max(1, Math.floor(data.failures.length / 2000));
  const votes = new Map<number, number>();
  for (let a = 0; a < zoneless.length; a += step) {
    const te = (zoneless[a] as Located<AppRecord>).record.time;
    for (let b = 0; b < data.failures.length; b += fstep) {
      const raw = (data.failures[b] as Located<ProxyRecord>).record.time - te;
      const gap = Math.round(raw / QUARTER_HOUR) * QUARTER_HOUR;
      if (Math.abs(raw - gap) <= 90_000 && Math.abs(gap) <= 14 * 3_600_000) votes.set(gap, (votes.get(gap) ?? 0) + 1);
    }
  }
  const shift = winningShift(votes);
  if (shift !== 0) {
    for (const e of zoneless) e.record.time += shift;
    data.appEvents.sort((x, y) => (x.record.time || 0) - (y.record.time || 0));
  }
  data.appLogShiftMs = shift;
  return shift;
}

/** Duration fields of app request lines (ms): holdfast `durationMs`, pino-http `responseTime`, lograge `duration`, a plain `ms`. */
const DURATION_FIELDS = ["durationMs", "responseTime", "duration", "ms", "elapsedMs"];

/**
 * App request lines with a 5xx and a duration tell when the app began that request; an error
 * event logged within 100 ms of one, by the same process, is that request's error. The error
 * gains the request's method, path and start, which join it to the proxy's record of the same
 * request far better than time alone when failures are dense.
 */
export function enrichFromRequests(data: Dataset): void {
  const requests: AppRecord[] = [];
  for (const e of data.appEvents) {
    const r = e.record;
    if (r.event !== "request" || !(typeof r.fields.status === "number" && r.fields.status >= 500)) continue;
    for (const k of DURATION_FIELDS) {
      const v = r.fields[k];
      if (typeof v === "number" && Number.isFinite(v) && v >= 0) {
        r.startedAt = r.time - v;
        break;
      }
    }
    requests.push(r);
  }
  if (requests.length === 0) return;
  const used = new Set<AppRecord>();
  let from = 0;
  for (const e of data.appEvents) {
    const r = e.record;
    if (r.event === "request" || r.event === "log" || r.reqId !== undefined || r.startedAt !== undefined) continue;
    while (from < requests.length && (requests[from] as AppRecord).time < r.time - 100) from++;
    for (let j = from; j < requests.length && (requests[j] as AppRecord).time <= r.time + 100; j++) {
      const q = requests[j] as AppRecord;
      if (used.has(q) || (q.pid !== undefined && r.pid !== undefined && q.pid !== r.pid)) continue;
      if ((r.path !== undefined && q.path !== undefined && r.path !== q.path) || (r.method !== undefined && q.method !== undefined && r.method !== q.method))
        continue;
      used.add(q);
      r.method ??= q.method;
      r.path ??= q.path;
      r.startedAt = q.startedAt;
      break;
    }
  }
}

/** App events after which the app itself sent the error response. */
const ANSWERING_EVENTS = new Set(["request", "shed", "deadline", "pool.timeout", "db.locked", "db.busy", "db.unavailable"]);

/** Builds the correlation for a dataset. */
export function correlate(data: Dataset): Correlation {
  alignErrorLogClock(data);
  alignAppLogClock(data);
  enrichFromRequests(data);
  const errIndex = new Map<string, number[]>();
  data.proxyErrors.forEach((e, i) => {
    if (!e.record.request) return;
    const sp = e.record.request.indexOf(" ");
    const sp2 = e.record.request.indexOf(" ", sp + 1);
    const method = e.record.request.slice(0, sp);
    let path = e.record.request.slice(sp + 1, sp2 < 0 ? undefined : sp2);
    const q = path.indexOf("?");
    if (q >= 0) path = path.slice(0, q);
    const k = requestKey(Math.floor(e.record.time / 1000), method, path);
    const list = errIndex.get(k);
    if (list) list.push(i);
    else errIndex.set(k, [i]);
  });
  const used = new Set<number>();
  const readTimeout = data.timeouts?.proxyReadTimeout;
  const kinds: FailureKind[] = [];
  const errorLine: number[] = [];
  const byReqId = new Map<string, number>();
  data.failures.forEach((f, i) => {
    const r = f.record;
    if (r.requestId) byReqId.set(r.requestId, i);
    let found = -1;
    if (r.source === "nginx-access" && errIndex.size > 0) {
      // The error is logged when it happens, the access line when the request ends: same second or just before.
      const sec = Math.floor(r.time / 1000);
      const wait = Math.ceil((r.requestTime ?? 0) + 1);
      for (let s = sec; s >= sec - wait && found < 0; s--) {
        for (const j of errIndex.get(requestKey(s, r.method, r.path)) ?? []) {
          if (!used.has(j)) {
            found = j;
            break;
          }
        }
      }
    }
    if (found >= 0) {
      used.add(found);
      kinds.push((data.proxyErrors[found] as Located<{ kind: ProxyErrorKind }>).record.kind);
    } else kinds.push(kindFromRecord(r, readTimeout));
    errorLine.push(found);
  });
  // A failure whose request id the app logged an answer for was answered by the app (its own 503/504),
  // whatever the proxy's timings suggest — unless the proxy's error log says otherwise.
  for (const e of data.appEvents) {
    const id = e.record.reqId;
    if (id === undefined || !ANSWERING_EVENTS.has(e.record.event)) continue;
    const i = byReqId.get(id);
    if (i !== undefined && errorLine[i] === -1 && kinds[i] !== "app-5xx") kinds[i] = "app-5xx";
  }
  const corr: Correlation = { kinds, errorLine, byReqId, deathClaimed: new Set(), claims: new Map(), pairs: new Map() };
  for (const w of deathWindows(data.appEvents)) for (const i of failuresInWindow(data, w.from, w.to)) corr.deathClaimed.add(i);
  return corr;
}

/** A worker death and the window of failures it can explain. */
export interface DeathWindow {
  from: number;
  to: number;
  event: Located<AppRecord>;
  cause: "watchdog" | "crash" | "oom";
}

const RESTART_GAP_MS = 3000;
/** Longest a replacement may take to start and still have the refusals before it counted under the death. */
const MAX_RESTART_GAP_MS = 60_000;

/**
 * Worker deaths from the app log: watchdog kills (worker.timeout), crashes, OOM kills. A window
 * ends when the next worker.start is logged (plus 1 s), or 3 s after the death when none is: a
 * slow restart on a loaded host keeps refusing connections, and those refusals are the death's.
 */
export function deathWindows(events: Located<AppRecord>[]): DeathWindow[] {
  const out: DeathWindow[] = [];
  const starts = events.filter((e) => e.record.event === "worker.start").map((e) => e.record.time);
  const restartEnd = (t: number) => {
    const next = starts.find((s) => s >= t);
    return next !== undefined && next - t <= MAX_RESTART_GAP_MS ? Math.max(t + RESTART_GAP_MS, next + 1000) : t + RESTART_GAP_MS;
  };
  let lastOom = Number.NEGATIVE_INFINITY;
  let lastTimeout = Number.NEGATIVE_INFINITY;
  for (const e of events) {
    const r = e.record;
    if (r.event === "memory.oom") {
      lastOom = r.time;
      out.push({ from: r.time - 2000, to: restartEnd(r.time), event: e, cause: "oom" });
    } else if (r.event === "worker.timeout") {
      lastTimeout = r.time;
      const age = typeof r.fields.heartbeatAgeMs === "number" ? r.fields.heartbeatAgeMs : 30_000;
      out.push({ from: r.time - age - 1000, to: restartEnd(r.time), event: e, cause: "watchdog" });
    } else if (r.event === "worker.exit") {
      const sig = r.fields.signal;
      const code = r.fields.code;
      const reason = r.fields.reason;
      const abnormal = (typeof sig === "string" && sig !== "SIGTERM") || (typeof code === "number" && code !== 0) || reason === "crash";
      if (!abnormal || reason === "recycle" || reason === "reload" || reason === "shutdown") continue;
      if (r.time - lastTimeout < 5000) {
        // The kill that followed a watchdog timeout: it may end later than the timeout's window.
        const w = out.findLast((d) => d.cause === "watchdog");
        if (w) w.to = Math.max(w.to, restartEnd(r.time));
        continue;
      }
      if (r.time - lastOom < 5000) {
        // The exit a supervisor logs after the heap ran out: the same death, perhaps ending later.
        const w = out.findLast((d) => d.cause === "oom");
        if (w) w.to = Math.max(w.to, restartEnd(r.time));
        continue;
      }
      const cause = reason === "oom" || code === 134 ? "oom" : "crash";
      out.push({ from: r.time - 2000, to: restartEnd(r.time), event: e, cause });
    }
  }
  return out;
}

/** Each failure in a death's window paired with that death (the first window holding it), for the links' lag. */
export function deathPairs(data: Dataset, deaths: DeathWindow[]): MatchPair[] {
  const out: MatchPair[] = [];
  const seen = new Set<number>();
  for (const d of deaths) {
    for (const i of failuresInWindow(data, d.from, d.to)) {
      if (seen.has(i)) continue;
      seen.add(i);
      const s = requestSpan((data.failures[i] as Located<ProxyRecord>).record);
      out.push({
        failure: i,
        event: d.event,
        lagMs: d.event.record.time - s.end,
        sinceStartMs: s.start !== undefined ? d.event.record.time - s.start : undefined,
        by: "death-window",
      });
    }
  }
  return out;
}

/** Indices of failures with from ≤ time ≤ to (failures are sorted by time). */
export function failuresInWindow(data: Dataset, from: number, to: number): number[] {
  const f = data.failures;
  let lo = 0;
  let hi = f.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((f[mid] as Located<ProxyRecord>).record.time < from) lo = mid + 1;
    else hi = mid;
  }
  const out: number[] = [];
  for (let i = lo; i < f.length && (f[i] as Located<ProxyRecord>).record.time <= to; i++) out.push(i);
  return out;
}

/**
 * Failures explained by a set of app events: matched by request id when both sides log one,
 * else by time (a failure within [event - before, event + after]). `accept` filters failures.
 */
export function failuresNear(
  data: Dataset,
  corr: Correlation,
  events: Located<AppRecord>[],
  beforeMs: number,
  afterMs: number,
  accept: (i: number) => boolean = () => true,
): Set<number> {
  const out = new Set<number>();
  for (const e of events) {
    const id = e.record.reqId ?? (typeof e.record.fields.reqId === "string" ? e.record.fields.reqId : undefined);
    const hit = id !== undefined ? corr.byReqId.get(id) : undefined;
    if (hit !== undefined) {
      if (accept(hit)) out.add(hit);
      continue;
    }
    for (const i of failuresInWindow(data, e.record.time - beforeMs, e.record.time + afterMs)) if (accept(i)) out.add(i);
  }
  return out;
}
