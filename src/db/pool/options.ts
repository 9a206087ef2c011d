/**
 * Pool options: the `db.pool` keys of the config schema (already parsed to milliseconds)
 * plus the resource factory. Unknown keys are rejected by name (tarn) so a typo such as
 * `acquireTimeoutMillis` fails at start-up instead of being silently ignored.
 */
import { dbDefaults } from "../../config/defaults.js";
import type { Config } from "../../config/index.js";
import { errors } from "../../errors/index.js";
import type { Logger } from "../../telemetry/index.js";

/**
 * Options of {@link Pool}: any `db.pool` setting (max, min, acquireTimeout, maxWaiting, idleTimeout,
 * maxLifetime, validateAfterIdle, keepaliveInterval, leakDetectionThreshold; in ms, each with its
 * meaning and default in src/config/schema.ts and docs/pool.md) plus the resource hooks.
 */
export interface PoolOptions<T> extends Partial<Config["db"]["pool"]> {
  /** Opens one resource (connection). Throw to signal the database cannot be reached. */
  create: () => Promise<T>;
  /** Closes one resource. Errors are logged and counted, never thrown to callers. */
  destroy: (resource: T) => Promise<void> | void;
  /** Tests a resource on borrow after it sat idle longer than `validateAfterIdle`; false or a throw = broken. */
  validate?: ((resource: T) => Promise<boolean> | boolean) | undefined;
  /** Keepalive ping for idle resources every `keepaliveInterval`; a throw = broken. Defaults to `validate`. */
  ping?: ((resource: T) => Promise<unknown>) | undefined;
  /** Name in logs, events and errors. Default "db". */
  name?: string | undefined;
  /** Where pool events are logged. Default: silent. */
  log?: Logger | undefined;
  /** First delay before retrying a failed create; doubles up to `createRetryMaxDelay`. Default 50. */
  createRetryDelay?: number | undefined;
  /** Longest delay between create retries (±20 % jitter): it bounds how long after the database is back the pool notices. Default 1000. */
  createRetryMaxDelay?: number | undefined;
  /** Monotonic clock in ms that idle, lifetime, validation and wait times are read from. Default performance.now; injected by deterministic tests. */
  now?: (() => number) | undefined;
}

/** Options after defaults were applied. */
export interface ResolvedPoolOptions<T> extends Required<Omit<PoolOptions<T>, "validate" | "ping" | "log" | "now">> {
  now: () => number;
  validate: ((resource: T) => Promise<boolean> | boolean) | undefined;
  ping: ((resource: T) => Promise<unknown>) | undefined;
  log: Logger | undefined;
}

/** The schema's `db.pool` defaults, and those of the two options that are not user configuration. */
const DEFAULTS = {
  name: "db",
  ...dbDefaults.pool,
  createRetryDelay: 50,
  // 1 s, not more: with the jitter a retry can be 1.2 s away when the database returns, and the
  // documented recovery is ≤ 2 s (2 s here made it up to 2.4 s plus the connect).
  createRetryMaxDelay: 1000,
} as const;

const NUMERIC = Object.keys(DEFAULTS).filter((k) => k !== "name") as (keyof typeof DEFAULTS)[];
const KNOWN = new Set<string>([...Object.keys(DEFAULTS), "create", "destroy", "validate", "ping", "log", "now"]);

/** Applies defaults and rejects unknown keys and impossible values by name (CONFIG_INVALID). */
export function resolvePoolOptions<T>(o: PoolOptions<T>): ResolvedPoolOptions<T> {
  const unknown = Object.keys(o).filter((k) => !KNOWN.has(k));
  if (unknown.length) {
    throw errors.configInvalid(
      `Unknown pool option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}. Known: ${[...KNOWN].join(", ")}.`,
    );
  }
  if (typeof o.create !== "function" || typeof o.destroy !== "function") {
    throw errors.configInvalid("Pool needs create() and destroy() functions.");
  }
  if (o.now !== undefined && typeof o.now !== "function") throw errors.configInvalid("Pool option now must be a function returning milliseconds.");
  const r = { ...DEFAULTS } as Record<string, unknown>;
  for (const k of NUMERIC) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw errors.configInvalid(`Pool option ${k} must be a number ≥ 0 (milliseconds for durations), got ${JSON.stringify(v)}.`);
    }
    r[k] = v;
  }
  const resolved = {
    ...(r as typeof DEFAULTS & Record<string, number>),
    name: o.name ?? DEFAULTS.name,
    create: o.create,
    destroy: o.destroy,
    validate: o.validate,
    ping: o.ping ?? (o.validate ? wrapValidate(o.validate) : undefined),
    log: o.log,
    now: o.now ?? (() => performance.now()),
  } as ResolvedPoolOptions<T>;
  if (resolved.max < 1) throw errors.configInvalid(`Pool option max must be at least 1, got ${resolved.max}.`);
  if (resolved.min > resolved.max) {
    throw errors.configInvalid(`Pool option min (${resolved.min}) is larger than max (${resolved.max}); lower min or raise max.`);
  }
  return resolved;
}

function wrapValidate<T>(validate: (resource: T) => Promise<boolean> | boolean): (resource: T) => Promise<void> {
  return async (resource) => {
    if (!(await validate(resource))) throw new Error("keepalive validation returned false");
  };
}
