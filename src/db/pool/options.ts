/**
 * Pool options: the `db.pool` keys of the config schema (already parsed to milliseconds)
 * plus the resource factory. Unknown keys are rejected by name (tarn) so a typo such as
 * `acquireTimeoutMillis` fails at start-up instead of being silently ignored.
 */
import { errors } from "../../errors/index.js";
import type { Logger } from "../../telemetry/index.js";

/** Options of {@link Pool}. Durations are milliseconds; defaults match the config schema. */
export interface PoolOptions<T> {
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
  /** Most resources open at once. Default 10. */
  max?: number | undefined;
  /** Resources kept open even when idle. Default 0. */
  min?: number | undefined;
  /** Longest wait for a free resource (the request deadline may cut it shorter). Default 5000. */
  acquireTimeout?: number | undefined;
  /** Most callers queued; past it acquire fails at once with POOL_QUEUE_FULL. Default 1000. */
  maxWaiting?: number | undefined;
  /** Close resources idle longer than this, down to `min` (0 = never). Default 600000. */
  idleTimeout?: number | undefined;
  /** Replace resources older than this, minus up to 2.5 % jitter (0 = never). Default 1800000. */
  maxLifetime?: number | undefined;
  /** Validate on borrow only when idle longer than this. Default 5000. */
  validateAfterIdle?: number | undefined;
  /** Ping idle resources this often (0 = off). Default 0. */
  keepaliveInterval?: number | undefined;
  /** Log a resource held longer than this with the acquirer's stack (0 = off). Default 0. */
  leakDetectionThreshold?: number | undefined;
  /** First delay before retrying a failed create; doubles up to `createRetryMaxDelay`. Default 50. */
  createRetryDelay?: number | undefined;
  /** Longest delay between create retries (±20 % jitter): it bounds how long after the database is back the pool notices. Default 1000. */
  createRetryMaxDelay?: number | undefined;
}

/** Options after defaults were applied. */
export interface ResolvedPoolOptions<T> extends Required<Omit<PoolOptions<T>, "validate" | "ping" | "log">> {
  validate: ((resource: T) => Promise<boolean> | boolean) | undefined;
  ping: ((resource: T) => Promise<unknown>) | undefined;
  log: Logger | undefined;
}

const DEFAULTS = {
  name: "db",
  max: 10,
  min: 0,
  acquireTimeout: 5000,
  maxWaiting: 1000,
  idleTimeout: 600_000,
  maxLifetime: 1_800_000,
  validateAfterIdle: 5000,
  keepaliveInterval: 0,
  leakDetectionThreshold: 0,
  createRetryDelay: 50,
  // 1 s, not more: with the jitter a retry can be 1.2 s away when the database returns, and the
  // documented recovery is ≤ 2 s (2 s here made it up to 2.4 s plus the connect).
  createRetryMaxDelay: 1000,
} as const;

const NUMERIC = Object.keys(DEFAULTS).filter((k) => k !== "name") as (keyof typeof DEFAULTS)[];
const KNOWN = new Set<string>([...Object.keys(DEFAULTS), "create", "destroy", "validate", "ping", "log"]);

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
