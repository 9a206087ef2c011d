/**
 * SLO terms for `holdfast load --slo "p95<300ms,error-rate<1%,pool.utilization<80%"` → a verdict
 * per term, client-side (what this generator saw) and server-side (what the holdfast admin
 * endpoints given with --admin reported during the run), exit code 1 on any failure.
 *
 * Thresholds are kept in the unit they are shown in (ms, %, a count, req/s), and every actual
 * value is computed in that same unit, so a verdict line never puts a fraction next to a percent.
 */
import { parseLoadDuration } from "./load-duration.js";
import { percentileKey } from "./latency-histogram.js";
import type { ServerSummary } from "./server-summary.js";
import type { LoadResult } from "./types.js";

/** The unit a term's threshold and actual value are both expressed in. */
export type SloUnit = "ms" | "%" | "count" | "req/s";

/** One parsed term. */
export interface SloTerm {
  text: string;
  metric: string;
  op: "<" | "<=" | ">" | ">=" | "==";
  /** Threshold in `unit`. */
  value: number;
  unit: SloUnit;
  /** "client": measured by this generator; "server": read from the --admin endpoints. */
  source: "client" | "server";
}

/** One verdict (also the `slo` entries of `--json`). */
export interface SloVerdict {
  slo: string;
  source: "client" | "server";
  metric: string;
  op: SloTerm["op"];
  threshold: number;
  /** In the same unit as `threshold`; null when nothing could be measured (then the verdict fails). */
  actual: number | null;
  unit: SloUnit;
  ok: boolean;
  /** The evidence behind the number, e.g. "72 5xx + 3 connection errors/timeouts of all 3000 requests sent". */
  detail: string;
}

/**
 * Presets: the post-mortem's success metrics in one word. `seed` and `postmortem` are the same.
 * 502 rate < 1 %, responses < 5 s, pool utilisation < 80 %, no lock timeouts, stable workers.
 */
export const SLO_PRESETS: Readonly<Record<string, string>> = {
  seed: "502<1%,p99<5s,pool.utilization<80%,lock-timeouts==0,worker.restarts==0",
  postmortem: "502<1%,p99<5s,pool.utilization<80%,lock-timeouts==0,worker.restarts==0",
};

/** Latency of all responses (or, with _2xx, of the successful ones): pNN, pNN.N, p999, mean, max. */
const LATENCY = /^(p\d{1,2}(?:\.\d+)?|p999|mean|max)(_2xx)?$/;
/** Shares of all requests sent. */
const SHARE = /^(error-rate|conn-errors|5xx|4xx|non-2xx|\d{3})$/;
/** Server-side metrics, with the spellings people type. */
const SERVER: Readonly<Record<string, { metric: string; unit: SloUnit }>> = {
  "pool.utilization": { metric: "pool.utilization", unit: "%" },
  "pool-utilization": { metric: "pool.utilization", unit: "%" },
  "pool.timeouts": { metric: "pool-timeouts", unit: "count" },
  "pool-timeouts": { metric: "pool-timeouts", unit: "count" },
  "lock-timeouts": { metric: "lock-timeouts", unit: "count" },
  "worker.restarts": { metric: "worker.restarts", unit: "count" },
  "worker-restarts": { metric: "worker.restarts", unit: "count" },
  shed: { metric: "shed", unit: "%" },
  "loop-lag-p99": { metric: "loop-lag-p99", unit: "ms" },
};

const KNOWN =
  "client: p50 p90 p95 p99 p999 or any pNN/pNN.N, mean, max (add _2xx for successful responses only), error-rate, conn-errors, 5xx, 4xx, non-2xx, a status code (502<1%), goodput>N, lag-p99; server (needs --admin): pool.utilization, pool-timeouts, lock-timeouts, worker.restarts, shed, loop-lag-p99; presets: seed (alias postmortem)";

/** The percentile (0–100) a latency metric names: "p95" → 95, "p999" → 99.9, "p99.9" → 99.9; undefined for mean/max. */
export function percentileOf(metric: string): number | undefined {
  const m = /^p(\d{1,2}(?:\.\d+)?|999)(?:_2xx)?$/.exec(metric);
  if (!m) return undefined;
  return m[1] === "999" ? 99.9 : Number(m[1]);
}

function parseTerm(text: string): SloTerm {
  const m = /^([a-z0-9_.-]+?)\s*(<=|>=|==|<|>)\s*([0-9.]+)\s*(ms|s|m|%)?$/i.exec(text);
  if (!m) throw new RangeError(`SLO term "${text}" is not of the form metric<value (e.g. p95<300ms, error-rate<1%, lock-timeouts==0)`);
  const metric = (m[1] as string).toLowerCase();
  const op = m[2] as SloTerm["op"];
  const num = Number(m[3]);
  const unit = m[4]?.toLowerCase();
  if (!Number.isFinite(num)) throw new RangeError(`SLO term "${text}": "${m[3]}" is not a number`);
  const share = (): number => {
    if (unit === "ms" || unit === "s" || unit === "m") throw new RangeError(`SLO term "${text}": a share takes % (or a fraction such as 0.01)`);
    return unit === "%" ? num : num * 100;
  };
  const latency = (): number => {
    if (unit === "%") throw new RangeError(`SLO term "${text}": a latency needs ms or s`);
    // A bare number in a latency term is milliseconds (as in k6's thresholds).
    return unit === undefined ? num : (parseLoadDuration(`${m[3]}${unit}`) as number);
  };
  const server = SERVER[metric];
  if (server) {
    const value = server.unit === "%" ? share() : server.unit === "ms" ? latency() : num;
    if (server.unit === "count" && unit !== undefined)
      throw new RangeError(`SLO term "${text}": ${metric} is a count, write it without a unit (e.g. ${metric}==0)`);
    return { text, metric: server.metric, op, value, unit: server.unit, source: "server" };
  }
  if (LATENCY.test(metric)) {
    const p = percentileOf(metric);
    if (p !== undefined && !(p > 0 && p < 100)) throw new RangeError(`SLO term "${text}": a percentile is between p0 and p100, exclusive`);
    return { text, metric, op, value: latency(), unit: "ms", source: "client" };
  }
  if (metric === "lag-p99") return { text, metric, op, value: latency(), unit: "ms", source: "client" };
  if (SHARE.test(metric)) return { text, metric, op, value: share(), unit: "%", source: "client" };
  if (metric === "goodput") return { text, metric, op, value: num, unit: "req/s", source: "client" };
  throw new RangeError(`SLO term "${text}": unknown metric "${metric}". Known: ${KNOWN}`);
}

/** Parses a comma-separated SLO list (presets expanded); throws a RangeError naming the bad term. */
export function parseSlo(spec: string): SloTerm[] {
  return spec
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean)
    .flatMap((t) => {
      const preset = SLO_PRESETS[t.toLowerCase()];
      return preset ? preset.split(",") : [t];
    })
    .map(parseTerm);
}

/** The latency percentiles (0–100) the terms need beyond the usual ones, for {@link LoadOptions.percentiles}. */
export function percentilesNeeded(terms: readonly SloTerm[]): number[] {
  const usual = new Set([50, 90, 95, 99, 99.9]);
  const out = new Set<number>();
  for (const t of terms) {
    const p = t.source === "client" ? percentileOf(t.metric) : undefined;
    if (p !== undefined && !usual.has(p)) out.add(p);
  }
  return [...out];
}

function clientActual(r: LoadResult, t: SloTerm): { actual: number | null; detail: string } {
  const lat = LATENCY.exec(t.metric);
  if (lat) {
    const s = lat[2] ? r.latency_ms.ok : r.latency_ms.all;
    const name = lat[1] as string;
    const p = percentileOf(name);
    const key = p === undefined ? name : percentileKey(p);
    const v = s[key];
    if (s.count === 0) return { actual: null, detail: lat[2] ? "no 2xx response arrived" : "no response arrived" };
    return { actual: v ?? null, detail: `of ${s.count} ${lat[2] ? "2xx responses" : "responses"}, from each request's scheduled send time` };
  }
  if (t.metric === "lag-p99") return { actual: r.schedule_lag_ms.p99, detail: "how late the generator sent against its own schedule" };
  if (t.metric === "goodput") return { actual: r.goodput_rps, detail: "2xx responses per second" };
  const sent = r.sent;
  const conn = r.status.error ?? 0;
  let count = 0;
  let n5xx = 0;
  for (const [code, v] of Object.entries(r.status)) {
    if (code === "error") continue;
    const k = Number(code);
    if (k >= 500 && k < 600) n5xx += v;
    if (
      (t.metric === "5xx" && k >= 500 && k < 600) ||
      (t.metric === "4xx" && k >= 400 && k < 500) ||
      (t.metric === "non-2xx" && (k < 200 || k >= 300)) ||
      t.metric === code
    )
      count += v;
  }
  let detail: string;
  if (t.metric === "error-rate") {
    count = n5xx + conn;
    detail = `${n5xx} 5xx + ${conn} connection errors/timeouts of all ${sent} requests sent`;
  } else if (t.metric === "conn-errors") {
    count = conn;
    detail = `${conn} connection errors/timeouts of all ${sent} requests sent`;
  } else {
    if (t.metric === "non-2xx") count += conn;
    detail = `${count} ${t.metric === "non-2xx" ? "non-2xx answers and connection errors" : t.metric === "5xx" || t.metric === "4xx" ? t.metric : `× ${t.metric}`} of all ${sent} requests sent`;
  }
  if (sent === 0) return { actual: null, detail: "no request was sent" };
  return { actual: (count / sent) * 100, detail };
}

function serverActual(s: ServerSummary | undefined, t: SloTerm): { actual: number | null; detail: string } {
  if (!s) return { actual: null, detail: "no --admin endpoint was sampled" };
  const missing = s.instances.filter((i) => i.samples_ok === 0).map((i) => i.target);
  const where = `${s.instances.length} instance${s.instances.length === 1 ? "" : "s"}, ${s.samples} samples`;
  if (missing.length > 0)
    return { actual: null, detail: `no /status answer from ${missing.join(", ")} (${s.instances.find((i) => i.samples_ok === 0)?.last_error ?? "?"})` };
  switch (t.metric) {
    case "pool.utilization":
      if (s.pool_utilization_max === null) return { actual: null, detail: "no database pool reported (the app opened none)" };
      return { actual: s.pool_utilization_max * 100, detail: `peak of the busiest worker's pool, ${where}` };
    case "pool-timeouts":
      return { actual: s.pool_timeouts, detail: `pool acquire timeouts during the run, ${where}` };
    case "lock-timeouts":
      return { actual: s.lock_timeouts, detail: `SQLite lock timeouts during the run, ${where}` };
    case "worker.restarts":
      return {
        actual: s.worker_restarts,
        detail: `worker restarts during the run (watchdog kills: ${s.worker_timeouts}, crashes: ${s.worker_crashes}), ${where}`,
      };
    case "shed":
      if (s.requests === 0) return { actual: null, detail: "the servers counted no request during the run" };
      return { actual: (s.shed / s.requests) * 100, detail: `${s.shed} shed of ${s.requests} requests the servers counted` };
    case "loop-lag-p99":
      if (s.loop_lag_p99_ms === null) return { actual: null, detail: "no worker reported its event-loop lag" };
      return { actual: s.loop_lag_p99_ms, detail: `p99 over every worker's per-second reading, ${where}` };
    default:
      return { actual: null, detail: `unknown server metric ${t.metric}` };
  }
}

/** Judges a result (and, for server terms, the --admin samples) against the terms. */
export function evaluateSlo(r: LoadResult, terms: readonly SloTerm[], server?: ServerSummary): SloVerdict[] {
  return terms.map((t) => {
    const { actual, detail } = t.source === "client" ? clientActual(r, t) : serverActual(server, t);
    const a = actual === null ? null : Math.round(actual * 10000) / 10000;
    const ok =
      a !== null && (t.op === "<" ? a < t.value : t.op === "<=" ? a <= t.value : t.op === ">" ? a > t.value : t.op === ">=" ? a >= t.value : a === t.value);
    return { slo: t.text, source: t.source, metric: t.metric, op: t.op, threshold: t.value, actual: a, unit: t.unit, ok, detail };
  });
}
