/**
 * Alert thresholds: the post-mortem's success metrics as defaults, overridable with
 * `--thresholds` as a JSON file or an inline `key=value,...` list. Validated with zod;
 * unknown keys are rejected by name. Nothing here touches the server's config schema.
 */
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { parseDuration } from "../config/index.js";

/** Resolved thresholds, in base units (ratios 0..1, milliseconds, counts). `undefined` = rule off. */
export interface Thresholds {
  /** 5xx share of requests in the window above which `error-rate` fires. Default 0.01 (1 %). */
  errorRate: number | undefined;
  /** p99 latency (ms) in the window above which `p99-latency` fires. Default 5000. */
  p99Ms: number | undefined;
  /** Pool utilisation (busy/max of the busiest worker) above which `pool-utilization` fires. Default 0.8. */
  poolUtilization: number | undefined;
  /** Pool acquire timeouts in the window above which `pool-timeouts` fires. Default 0 (any). */
  poolTimeouts: number | undefined;
  /** SQLite lock timeouts in the window above which `lock-timeouts` fires. Default 0 (any). */
  lockTimeouts: number | undefined;
  /** Unplanned worker replacements (crash, watchdog kill) in the window above which `unstable-workers` fires. Default 0 (any). */
  workerRestarts: number | undefined;
  /** Whether an unreachable admin endpoint fires `instance-down`. Default true. */
  instanceDown: boolean;
  /** How long a condition must hold before its alert fires (ms). Default 10 s. */
  forMs: number;
  /** How long a condition must stay clear before a firing alert resolves (ms). Default 10 s. */
  resolveForMs: number;
  /** How far back rates and counter increases are measured for alerts (ms). Default 30 s. */
  windowMs: number;
  /** Fewest requests in the window for error-rate and p99 to be judged (few requests prove nothing). Default 20. */
  minRequests: number;
}

/** The defaults: the post-mortem's success metrics. */
export const DEFAULT_THRESHOLDS: Thresholds = {
  errorRate: 0.01,
  p99Ms: 5000,
  poolUtilization: 0.8,
  poolTimeouts: 0,
  lockTimeouts: 0,
  workerRestarts: 0,
  instanceDown: true,
  forMs: 10_000,
  resolveForMs: 10_000,
  windowMs: 30_000,
  minRequests: 20,
};

const OFF = /^(off|none|false|disabled?)$/i;

const ratio = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === "string" && OFF.test(v.trim())) return undefined;
  const s = String(v).trim();
  const n = s.endsWith("%") ? Number(s.slice(0, -1)) / 100 : Number(s);
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    ctx.addIssue({ code: "custom", message: `expected a share like 1% or 0.01 (or off), got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return n;
});

const duration = (allowOff: boolean) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    if (allowOff && typeof v === "string" && OFF.test(v.trim())) return undefined;
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: `expected a duration like 5s or 250ms${allowOff ? " (or off)" : ""}, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ms;
  });

const count = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === "string" && OFF.test(v.trim())) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    ctx.addIssue({ code: "custom", message: `expected a whole number ≥ 0 (or off), got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return n;
});

const bool = z.union([z.boolean(), z.string()]).transform((v, ctx) => {
  if (typeof v === "boolean") return v;
  if (/^(on|true|yes|1)$/i.test(v.trim())) return true;
  if (OFF.test(v.trim()) || /^(no|0)$/i.test(v.trim())) return false;
  ctx.addIssue({ code: "custom", message: `expected on or off, got ${JSON.stringify(v)}` });
  return z.NEVER;
});

/** The accepted keys, as a user writes them. */
export const thresholdsSchema = z.strictObject({
  errorRate: ratio.optional(),
  p99: duration(true).optional(),
  poolUtilization: ratio.optional(),
  poolTimeouts: count.optional(),
  lockTimeouts: count.optional(),
  workerRestarts: count.optional(),
  instanceDown: bool.optional(),
  for: duration(false).optional(),
  resolveFor: duration(false).optional(),
  window: duration(false).optional(),
  minRequests: count.optional(),
});

/** Raised for a bad --thresholds value; the CLI turns it into exit 2. */
export class ThresholdsError extends Error {
  override name = "ThresholdsError";
}

/** Parses `errorRate=2%,p99=3s` into an object of raw strings. */
function parseInline(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(/[,\s]+/).filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new ThresholdsError(`--thresholds: "${part}" is not key=value. Example: --thresholds errorRate=2%,p99=3s,for=30s`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** Validates raw thresholds (from JSON or inline) over the defaults; throws ThresholdsError naming each bad key. */
export function resolveThresholds(raw: unknown, base: Thresholds = DEFAULT_THRESHOLDS, where = "--thresholds"): Thresholds {
  const r = thresholdsSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      if (i.code === "unrecognized_keys") return `unknown key ${i.keys.map((k) => `"${k}"`).join(", ")}`;
      return `${i.path.join(".") || "(top level)"}: ${i.message}`;
    });
    throw new ThresholdsError(`${where}: ${lines.join("; ")}. Keys: ${Object.keys(thresholdsSchema.shape).join(", ")}.`);
  }
  const v = r.data;
  const pick = <K extends keyof Thresholds>(key: K, given: Thresholds[K] | undefined, present: boolean): Thresholds[K] =>
    present ? (given as Thresholds[K]) : base[key];
  const has = (k: string) => typeof raw === "object" && raw !== null && k in raw;
  return {
    errorRate: pick("errorRate", v.errorRate, has("errorRate")),
    p99Ms: pick("p99Ms", v.p99, has("p99")),
    poolUtilization: pick("poolUtilization", v.poolUtilization, has("poolUtilization")),
    poolTimeouts: pick("poolTimeouts", v.poolTimeouts, has("poolTimeouts")),
    lockTimeouts: pick("lockTimeouts", v.lockTimeouts, has("lockTimeouts")),
    workerRestarts: pick("workerRestarts", v.workerRestarts, has("workerRestarts")),
    instanceDown: v.instanceDown ?? base.instanceDown,
    forMs: v.for ?? base.forMs,
    resolveForMs: v.resolveFor ?? base.resolveForMs,
    windowMs: v.window ?? base.windowMs,
    minRequests: v.minRequests ?? base.minRequests,
  };
}

/** Reads `--thresholds` values in order (each a JSON file or an inline list); later ones override earlier. */
export function loadThresholds(args: readonly string[]): Thresholds {
  let t = DEFAULT_THRESHOLDS;
  for (const arg of args) {
    const looksLikeFile = arg.endsWith(".json") || (!arg.includes("=") && existsSync(arg));
    if (looksLikeFile) {
      if (!existsSync(arg)) throw new ThresholdsError(`--thresholds ${arg}: no such file. Give a JSON file or an inline list like errorRate=2%,p99=3s.`);
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(arg, "utf8"));
      } catch (err) {
        throw new ThresholdsError(`--thresholds ${arg}: not valid JSON (${(err as Error).message}).`);
      }
      t = resolveThresholds(raw, t, `--thresholds ${arg}`);
    } else {
      t = resolveThresholds(parseInline(arg), t);
    }
  }
  if (t.windowMs <= 0) throw new ThresholdsError("--thresholds: window must be above 0 (e.g. window=30s).");
  return t;
}
