/**
 * Cache values are JSON, for both backends: what a hit returns is what a Redis round trip
 * would return, so an app that works on the memory backend works on Redis, and a caller
 * that mutates its result cannot corrupt the cached copy.
 */
import { errors } from "../errors/index.js";

/** Serialises `value` for the cache; throws INTERNAL naming the key and the path when JSON cannot hold it. */
export function encodeValue(value: unknown, key: string): string {
  if (value === undefined) {
    throw errors.internal(
      `Cache key "${key}": the value is undefined, which the cache cannot store (a miss also reads as undefined). ` + `Return null for "nothing found".`,
      { details: { key } },
    );
  }
  let bad: { path: string; kind: string } | undefined;
  let json: string;
  try {
    json = JSON.stringify(value, function check(this: unknown, prop: string, v: unknown) {
      const t = typeof v;
      if (bad === undefined && (t === "function" || t === "symbol" || t === "bigint")) bad = { path: prop || "(the value itself)", kind: t };
      return t === "bigint" ? null : v;
    });
  } catch (err) {
    throw errors.internal(
      `Cache key "${key}": the value cannot be turned into JSON (${err instanceof Error ? err.message : String(err)}). ` +
        "Cache plain data: objects, arrays, strings, numbers, booleans, null.",
      { cause: err, details: { key } },
    );
  }
  if (bad) {
    throw errors.internal(
      `Cache key "${key}": property "${bad.path}" is a ${bad.kind}, which JSON cannot hold. ` +
        "Cache plain data: objects, arrays, strings, numbers, booleans, null.",
      { details: { key, property: bad.path, type: bad.kind } },
    );
  }
  return json;
}

/** Rebuilds a value stored by {@link encodeValue}; every call returns a new copy. */
export function decodeValue<T>(json: string): T {
  return JSON.parse(json) as T;
}
