/** Redis for tests: where they connect, and a reachability probe for the loud-skip / CI-fail gate. */
import type { TestContext } from "node:test";
import { Redis } from "ioredis";
import { missingService } from "./require-service.js";

/** Where the tests connect. */
export const REDIS_URL = process.env.HOLDFAST_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";

/** undefined when Redis answers PING, else why not. */
export async function redisUnreachable(): Promise<string | undefined> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let cause: string | undefined;
  r.on("error", (err: Error) => {
    cause ??= err.message;
  });
  try {
    await r.connect();
    await r.ping();
    return undefined;
  } catch (err) {
    return cause ?? (err instanceof Error ? err.message : String(err));
  } finally {
    r.disconnect();
  }
}

/** What a skipped or failed Redis test says. */
export function redisUnreachableMessage(why: string): string {
  return `Redis unreachable at ${REDIS_URL} (${why}) — start it to run this test`;
}

/** True when Redis answers; otherwise skips the test (CI unset) or fails it (CI=true). */
export async function requireRedis(t: TestContext): Promise<boolean> {
  const why = await redisUnreachable();
  if (why === undefined) return true;
  missingService(t, redisUnreachableMessage(why));
  return false;
}
