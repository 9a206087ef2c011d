/** The cache contract apps see as `ctx.cache`: read-through with single-flight and stale-while-revalidate. */
import type { Logger } from "../telemetry/index.js";

/** Options of {@link Cache.set}. */
export interface SetOptions {
  /** How long the value is fresh, in ms. Default: the cache's `defaultTtlMs`. */
  ttlMs?: number;
  /** How long past `ttlMs` `wrap` may still serve it while refreshing, in ms. Default: the cache's `staleTtlMs`. */
  staleTtlMs?: number;
}

/** Options of {@link Cache.wrap}. */
export interface WrapOptions extends SetOptions {}

/** Counters the monitor and `/status` read; all counts since the cache was created. */
export interface CacheStatus {
  /** "memory" or "redis". */
  backend: "memory" | "redis";
  /** False while the Redis backend is unreachable (calls then go straight to the loader); always true for memory. */
  available: boolean;
  /** Calls answered with a fresh value. */
  hits: number;
  /** Calls that found no usable value (they ran the loader or waited for one that ran it). */
  misses: number;
  /** `wrap` calls answered with a stale value while a background refresh ran. */
  staleServed: number;
  /** Times a loader ran (foreground loads plus background refreshes). */
  loaderRuns: number;
  /** Times a loader threw or returned something JSON cannot hold. */
  loaderErrors: number;
  /** Misses answered by a load another caller ran (in this process, or in another instance through Redis). */
  joins: number;
  /** Background refreshes started (stale-while-revalidate). */
  refreshes: number;
  /** Background refreshes whose loader failed (the stale value stays until its stale window ends). */
  refreshErrors: number;
  /** Redis commands that failed or timed out (not counting those cut short by the request's own deadline). */
  backendErrors: number;
  /** `wrap` calls answered by the loader alone because the backend failed. */
  degraded: number;
  /** Misses that stopped waiting for another instance's load (`lockWaitMs` passed) and ran the loader themselves. */
  lockWaitTimeouts: number;
  /** Entries held (memory backend only; undefined for Redis). */
  size: number | undefined;
}

/** A read-through cache; values are JSON (see docs/cache.md). */
export interface Cache {
  /** The fresh value under `key`, or undefined on a miss, a stale value, or an unreachable backend. */
  get<T>(key: string): Promise<T | undefined>;
  /** Stores `value` (JSON); resolves false when the backend could not be reached (the write is dropped). */
  set(key: string, value: unknown, options?: SetOptions): Promise<boolean>;
  /** Removes `key`; resolves false when the backend could not be reached (the value then lives until its TTL). */
  delete(key: string): Promise<boolean>;
  /**
   * The cached value of `key`, or the loader's result (stored for next time). Concurrent misses
   * run the loader once; a stale value is returned at once and refreshed in the background.
   */
  wrap<T>(key: string, loader: () => T | Promise<T>, options?: WrapOptions): Promise<T>;
  /** Resolves true once the backend answers (at once for memory), false after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<boolean>;
  /** Counters and state for the monitor. */
  status(): CacheStatus;
  /** Closes the backend connection; later calls go to the loader / return undefined. */
  close(): Promise<void>;
}

/** Options of `createCache`. Unknown keys are rejected by name. */
export interface CacheOptions {
  /** "memory:" (default: per process) or "redis://host:port/db" (shared by every worker and instance). Default: config `cache.url`. */
  url?: string;
  /** Prefix of every key, `namespace:key`. Default: config `cache.namespace`. */
  namespace?: string;
  /** Memory backend: most entries kept; the least recently used goes first. Default: config `cache.maxEntries`. */
  maxEntries?: number;
  /** Freshness of a value when a call gives no `ttlMs`, in ms. Default: config `cache.ttl`. */
  defaultTtlMs?: number;
  /** How long past its TTL a value may be served by `wrap` while one background refresh runs, in ms (0 = off). Default: config `cache.staleTtl`. */
  staleTtlMs?: number;
  /** Redis: longest wait for one command, in ms; the request's remaining deadline may cut it shorter. Default: config `cache.commandTimeout`. */
  commandTimeoutMs?: number;
  /** Redis: how long the cross-instance load lock is held at most (a crashed holder frees it then), in ms. Default 5000. */
  lockTtlMs?: number;
  /** Redis: how long a miss waits for another instance's load before running the loader itself, in ms. Default: config `cache.lockWait`. */
  lockWaitMs?: number;
  /** Deadline of a background refresh's loader, in ms. Default 10000. */
  refreshTimeoutMs?: number;
  /** At most one `cache.unavailable` warning per this many ms. Default 30000. */
  unavailableLogIntervalMs?: number;
  /** Where `cache.*` events go. Default: silent. */
  log?: Logger;
}
