/** `createCache(options)`: checks the options, picks the backend from the URL, builds the cache. */
import { cacheDefaults } from "../config/defaults.js";
import { useRequestContext } from "../context/index.js";
import { errors } from "../errors/index.js";
import { resolveOptional } from "../optional/index.js";
import { redactUrl, silentLogger } from "../telemetry/index.js";
import { MemoryStore } from "./memory-store.js";
import { ReadThroughCache } from "./read-through-cache.js";
import { RedisStore } from "./redis-store.js";
import type { Cache, CacheOptions } from "./types.js";

const fromSchema = cacheDefaults;

/**
 * Default of every numeric and string option of {@link createCache} (docs/cache.md lists each):
 * the config schema's `cache.*` defaults under the option names (ttl is `defaultTtlMs`), and the
 * tuning that is not user configuration.
 */
export const CACHE_DEFAULTS = {
  url: fromSchema.url,
  namespace: fromSchema.namespace,
  maxEntries: fromSchema.maxEntries,
  defaultTtlMs: fromSchema.ttl,
  staleTtlMs: fromSchema.staleTtl,
  commandTimeoutMs: fromSchema.commandTimeout,
  lockTtlMs: 5_000,
  lockWaitMs: fromSchema.lockWait,
  refreshTimeoutMs: 10_000,
  unavailableLogIntervalMs: 30_000,
} as const;

const KNOWN = new Set<string>([...Object.keys(CACHE_DEFAULTS), "log"]);

/**
 * Creates a cache: `memory:` (per process, the default) or `redis://host:port/db` (shared by
 * instances). Its waits are bounded by the request's deadline, so from now on requests carry
 * their context across awaits (see context/index.ts).
 */
export function createCache(options: CacheOptions = {}): Cache {
  useRequestContext();
  return buildCache(options);
}

/**
 * {@link createCache} without turning on context carrying: for the worker, which builds one cache
 * for every app but hands it only to defineApp factories (which turn carrying on themselves).
 */
export function buildCache(options: CacheOptions = {}): Cache {
  const unknown = Object.keys(options).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) {
    throw errors.configInvalid(
      `Unknown cache option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}; known: ${[...KNOWN].join(", ")}.`,
    );
  }
  const o = { ...CACHE_DEFAULTS, ...withoutUndefined(options) };
  for (const name of ["maxEntries", "defaultTtlMs", "commandTimeoutMs", "lockTtlMs", "refreshTimeoutMs"] as const) {
    if (!(o[name] > 0) || !Number.isFinite(o[name])) throw errors.configInvalid(`Cache option ${name} must be a positive number, got ${String(o[name])}.`);
  }
  for (const name of ["staleTtlMs", "lockWaitMs", "unavailableLogIntervalMs"] as const) {
    if (!(o[name] >= 0) || !Number.isFinite(o[name])) throw errors.configInvalid(`Cache option ${name} must be 0 or more, got ${String(o[name])}.`);
  }
  if (!/^[^\s]+$/.test(o.namespace)) throw errors.configInvalid(`Cache namespace must be a non-empty word without spaces, got ${JSON.stringify(o.namespace)}.`);
  const log = options.log ?? silentLogger();
  const settings = { ...o, displayUrl: redactUrl(o.url), log };
  if (o.url === "memory:" || o.url === "memory") return new ReadThroughCache(new MemoryStore(o.maxEntries), settings);
  if (/^rediss?:\/\//.test(o.url)) {
    // Checked here, synchronously: without ioredis the store would only ever look "down".
    resolveOptional("ioredis", "cache.url is a redis:// URL");
    let cache: ReadThroughCache | undefined;
    const store = new RedisStore({ url: o.url, commandTimeoutMs: o.commandTimeoutMs, onReady: () => cache?.backendReady() });
    cache = new ReadThroughCache(store, settings);
    return cache;
  }
  throw errors.configInvalid(
    `Cache URL ${JSON.stringify(settings.displayUrl)} is not understood. Use "memory:" (one cache per process) or "redis://host:6379/0" (shared by every worker and instance).`,
  );
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
