/**
 * What the scale tests share: the Redis gate (skip loudly outside CI, fail in CI), a PostgreSQL
 * schema of their own reached through the URL alone, and waiting for instances to be ready.
 */
import { Redis } from "ioredis";
import { adminQuery, PG_URL, uniqueName } from "../support/postgres.js";
import { REDIS_URL } from "../support/redis.js";
import { eventually } from "../support/wait.js";

export { requireRedis } from "../support/redis.js";

/** A fresh, empty schema and a database URL whose connections use it (search_path in the URL). */
export async function freshSchema(prefix: string): Promise<{ schema: string; url: string; drop: () => Promise<void> }> {
  const schema = uniqueName(prefix).toLowerCase();
  await adminQuery(`create schema ${schema}`);
  const u = new URL(PG_URL);
  u.searchParams.set("options", `-c search_path=${schema}`);
  return { schema, url: u.toString(), drop: async () => void (await adminQuery(`drop schema if exists ${schema} cascade`)) };
}

/** Deletes every Redis key under `namespace:`. */
export async function dropNamespace(namespace: string): Promise<void> {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const keys = await r.keys(`${namespace}:*`);
    if (keys.length) await r.del(...keys);
  } finally {
    r.disconnect();
  }
}

/** Polls `${adminUrl}/readyz` until 200, or throws after `ms`. */
export async function waitReady(adminUrl: string, ms = 30_000): Promise<void> {
  await eventually(async () => (await fetch(`${adminUrl}/readyz`)).status === 200, ms, `${adminUrl}/readyz answering 200`);
}
