/** Redis for tests: where they connect, and a reachability probe for the loud-skip / CI-fail gate. */
import { once } from "node:events";
import { connect } from "node:net";
import { createInterface } from "node:readline";
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

/**
 * Calls `onCommand` with each command Redis runs (a MONITOR line: `<time> [<db> <client>] "cmd"
 * "arg" …`) until closed. A raw socket, not ioredis's `monitor()`: that one fails with "Command
 * queue state error" when other clients' commands arrive while it sets up (ioredis #1981), which a
 * second suite running beside this one makes likely.
 */
export async function watchRedisCommands(onCommand: (line: string) => void): Promise<{ close(): void }> {
  const url = new URL(REDIS_URL);
  const socket = connect(Number(url.port || 6379), url.hostname);
  await once(socket, "connect");
  const password = decodeURIComponent(url.password);
  // Commands as RESP arrays, so a password with spaces or symbols goes through as it is.
  const command = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
  if (password) socket.write(url.username ? command("AUTH", decodeURIComponent(url.username), password) : command("AUTH", password));
  socket.write(command("MONITOR"));
  const lines = createInterface({ input: socket, crlfDelay: Number.POSITIVE_INFINITY });
  // One +OK per command sent: MONITOR's is the last, and only after it are commands streamed.
  let oksDue = password ? 2 : 1;
  const started = new Promise<void>((resolve, reject) => {
    lines.on("line", (line) => {
      if (oksDue > 0 && line === "+OK") {
        if (--oksDue === 0) resolve();
      } else if (line.startsWith("-")) reject(new Error(`Redis refused AUTH or MONITOR: ${line.slice(1)}`));
      else onCommand(line.slice(1));
    });
    socket.once("error", reject);
  });
  await started;
  return {
    close() {
      lines.close();
      socket.destroy();
    },
  };
}
