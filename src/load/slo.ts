/**
 * SLO verdicts: `--slo "p99<500ms,error-rate<1%,5xx<1%"` → pass/fail per term, exit code 1 on any failure.
 *
 * Terms: `p50|p90|p99|p999|mean|max` (latency of every response, from scheduled send time),
 * the same with `_2xx` (successful responses only), `error-rate` (connection errors and
 * timeouts / sent), `5xx`, `4xx`, `non-2xx` or a status code like `502` (share of requests),
 * `goodput` (2xx/s), `lag-p99` (generator schedule lag). Operators `<`, `<=`, `>`, `>=`.
 * Durations take ms or s; shares take % or a fraction.
 */
import { parseDuration } from "../config/index.js";
import type { LoadResult } from "./types.js";

/** One parsed term. */
export interface SloTerm {
  text: string;
  metric: string;
  op: "<" | "<=" | ">" | ">=";
  value: number;
}

/** One verdict. */
export interface SloVerdict {
  slo: string;
  actual: number;
  ok: boolean;
}

const LATENCY = /^(p50|p90|p99|p999|mean|max)(_2xx)?$/;
const SHARE = /^(error-rate|5xx|4xx|non-2xx|\d{3})$/;

/** Parses a comma-separated SLO list; throws a RangeError naming the bad term. */
export function parseSlo(spec: string): SloTerm[] {
  return spec
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean)
    .map((text) => {
      const m = /^([a-z0-9_-]+)\s*(<=|>=|<|>)\s*([0-9.]+)\s*(ms|s|%)?$/i.exec(text);
      if (!m) throw new RangeError(`SLO term "${text}" is not of the form metric<value (e.g. p99<500ms, error-rate<1%)`);
      const metric = (m[1] as string).toLowerCase();
      const op = m[2] as SloTerm["op"];
      const num = Number(m[3]);
      const unit = m[4]?.toLowerCase();
      let value: number;
      if (LATENCY.test(metric) || metric === "lag-p99") {
        const ms = parseDuration(`${m[3]}${unit ?? "ms"}`);
        if (ms === undefined || unit === "%") throw new RangeError(`SLO term "${text}": a latency needs ms or s`);
        value = ms;
      } else if (SHARE.test(metric)) {
        value = unit === "%" ? num / 100 : num;
        if (unit === "ms" || unit === "s") throw new RangeError(`SLO term "${text}": a share takes % or a fraction`);
      } else if (metric === "goodput") {
        value = num;
      } else {
        throw new RangeError(`SLO term "${text}": unknown metric "${metric}" (use p50..p999, mean, max, *_2xx, error-rate, 5xx, 4xx, non-2xx, a status code, goodput, lag-p99)`);
      }
      return { text, metric, op, value };
    });
}

function actualOf(r: LoadResult, metric: string): number {
  const lat = LATENCY.exec(metric);
  if (lat) {
    const s = lat[2] ? r.latency_ms.ok : r.latency_ms.all;
    return s[lat[1] as "p50" | "p90" | "p99" | "p999" | "mean" | "max"];
  }
  if (metric === "lag-p99") return r.schedule_lag_ms.p99;
  if (metric === "goodput") return r.goodput_rps;
  const n = Math.max(1, r.sent);
  let count = 0;
  for (const [code, v] of Object.entries(r.status)) {
    if (code === "error") {
      if (metric === "error-rate") count += v;
      continue;
    }
    const k = Number(code);
    if (
      (metric === "5xx" && k >= 500 && k < 600) ||
      (metric === "4xx" && k >= 400 && k < 500) ||
      (metric === "non-2xx" && (k < 200 || k >= 300)) ||
      metric === code
    )
      count += v;
  }
  return count / n;
}

/** Judges a result against the terms. */
export function evaluateSlo(r: LoadResult, terms: SloTerm[]): SloVerdict[] {
  return terms.map((t) => {
    const actual = actualOf(r, t.metric);
    const ok = t.op === "<" ? actual < t.value : t.op === "<=" ? actual <= t.value : t.op === ">" ? actual > t.value : actual >= t.value;
    return { slo: t.text, actual: Math.round(actual * 10000) / 10000, ok };
  });
}
