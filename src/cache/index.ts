/**
 * cache/ — read-through cache with single-flight and stale-while-revalidate; memory backend
 * by default, Redis (ioredis) for several instances. What the server hands apps as `ctx.cache`.
 * Where each behaviour lives (one hop from here):
 *
 *   create-cache.ts        checks the options, picks the backend from the URL
 *   read-through-cache.ts  single flight, the load lock across instances, stale-while-revalidate
 *   store.ts               the backend contract; memory-store.ts (LRU), redis-store.ts (never hangs a request)
 *   json-value.ts          values are JSON for both backends; outage-reporter.ts one log line per outage
 *   types.ts               the contract apps see
 */
export { buildCache, createCache } from "./create-cache.js";
export type { Cache, CacheOptions, CacheStatus, SetOptions, WrapOptions } from "./types.js";
