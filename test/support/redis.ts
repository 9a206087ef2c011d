/** Redis for tests: where they connect, and a reachability probe for the loud-skip / CI-fail gate. */
import { Redis } from "ioredis";

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
