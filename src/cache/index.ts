/**
 * cache/ — read-through cache with single-flight and stale-while-revalidate; memory backend
 * by default, Redis (ioredis) for several instances. What the server hands apps as `ctx.cache`.
 */
export { createCache } from "./create-cache.js";
export type { Cache, CacheOptions, CacheStatus, SetOptions, WrapOptions } from "./types.js";
