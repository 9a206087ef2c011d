/**
 * Shared backend on Redis (ioredis). It must never hang a request: the offline queue is
 * off, so a command sent while disconnected fails at once; every command is raced against
 * min(commandTimeoutMs, the request's remaining deadline); after a command times out on a
 * connected but silent server, Redis is skipped for a short cool-down instead of costing
 * every request a full timeout. ioredis reconnects in the background meanwhile.
 *
 * ioredis is imported on first use (it costs ~200 ms of start-up per process), so workers on
 * the memory backend never load it; until it is loaded, calls answer as if Redis were down.
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { currentDeadline } from "../context/index.js";
import { importOptional } from "../optional/index.js";
import { BackendFailure, type CacheStore, type StoredEntry } from "./store.js";

/** Settings of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** redis:// or rediss:// URL (the path picks the database number). */
  url: string;
  /** Longest wait for one command, in ms. */
  commandTimeoutMs: number;
  /** Called when the connection becomes ready (after start or a reconnect). */
  onReady?: () => void;
}

// Stored form: "1|<freshUntil>|<staleUntil>|<json>". A version prefix lets a later format
// coexist with entries written by older workers during a rolling reload.
const FORMAT = "1|";

// Deletes the lock only if we still hold it: a holder whose lock expired must not free the next holder's.
const UNLOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

// After a full command timeout on a connected server, skip Redis this long (then one call probes it).
const COOL_DOWN_MS = 1000;
// A socket with commands pending that receives nothing this long is dead: ioredis destroys it and reconnects.
const SOCKET_TIMEOUT_MS = 5000;

/** Encodes an entry into its Redis string form. */
function formatEntry(e: StoredEntry): string {
  return `${FORMAT}${e.freshUntil}|${e.staleUntil}|${e.json}`;
}

/** Decodes the Redis string form; undefined for anything unrecognised (treated as a miss). */
function parseEntry(raw: string): StoredEntry | undefined {
  if (!raw.startsWith(FORMAT)) return undefined;
  const a = raw.indexOf("|", FORMAT.length);
  const b = a < 0 ? -1 : raw.indexOf("|", a + 1);
  if (b < 0) return undefined;
  const freshUntil = Number(raw.slice(FORMAT.length, a));
  const staleUntil = Number(raw.slice(a + 1, b));
  if (!Number.isFinite(freshUntil) || !Number.isFinite(staleUntil)) return undefined;
  return { json: raw.slice(b + 1), freshUntil, staleUntil };
}

/** The Redis store behind `redis://` URLs. */
export class RedisStore implements CacheStore {
  readonly kind = "redis" as const;
  readonly shared = true;
  #redis: Redis | undefined;
  readonly #loading: Promise<void>;
  readonly #timeoutMs: number;
  #coolUntil = 0;
  #closed = false;

  constructor(o: RedisStoreOptions) {
    this.#timeoutMs = o.commandTimeoutMs;
    this.#loading = importOptional<typeof import("ioredis")>("ioredis", "cache.url is a redis:// URL").then(
      ({ Redis }) => {
        if (!this.#closed) this.#redis = this.#connect(Redis, o);
      },
      // Reported by every call (as "not connected") and by ready(); nothing else to do here.
      () => undefined,
    );
  }

  #connect(RedisClass: typeof Redis, o: RedisStoreOptions): Redis {
    const redis = new RedisClass(o.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: Math.max(1000, o.commandTimeoutMs * 4),
      // No ioredis commandTimeout: #bounded already races every command against a tighter timer.
      socketTimeout: SOCKET_TIMEOUT_MS,
      // Reconnect quickly at first, then every 2 s at most, forever: the cache comes back by itself.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      connectionName: `holdfast-cache-${process.pid}`,
      lazyConnect: false,
    });
    // Without a listener ioredis prints every failed reconnect; the cache reports failures itself, throttled.
    redis.on("error", () => {});
    if (o.onReady) redis.on("ready", o.onReady);
    return redis;
  }

  available(): boolean {
    return !this.#closed && this.#redis?.status === "ready" && performance.now() >= this.#coolUntil;
  }

  async ready(timeoutMs: number): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    await Promise.race([this.#loading, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    const redis = this.#redis;
    if (redis === undefined || this.#closed) return false;
    if (redis.status === "ready") return true;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        redis.off("ready", onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), Math.max(0, until - performance.now()));
      redis.on("ready", onReady);
    });
  }

  async read(key: string): Promise<StoredEntry | undefined> {
    const raw = await this.#bounded("get", (r) => r.get(key));
    return raw === null ? undefined : parseEntry(raw);
  }

  async write(key: string, entry: StoredEntry): Promise<void> {
    const ttl = Math.max(1, Math.ceil(entry.staleUntil - Date.now()));
    await this.#bounded("set", (r) => r.set(key, formatEntry(entry), "PX", ttl));
  }

  async remove(key: string): Promise<void> {
    await this.#bounded("del", (r) => r.del(key));
  }

  async acquireLock(key: string, ttlMs: number): Promise<string | undefined> {
    const token = randomBytes(9).toString("base64url");
    const ok = await this.#bounded("lock", (r) => r.set(key, token, "PX", Math.max(1, Math.ceil(ttlMs)), "NX"));
    return ok === "OK" ? token : undefined;
  }

  async releaseLock(key: string, token: string): Promise<void> {
    await this.#bounded("unlock", (r) => r.eval(UNLOCK, 1, key, token));
  }

  size(): undefined {
    return undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const redis = this.#redis;
    if (redis === undefined) return;
    if (redis.status === "ready") {
      const quit = redis.quit().catch(() => undefined);
      await Promise.race([quit, new Promise((r) => setTimeout(r, this.#timeoutMs).unref())]);
    }
    redis.disconnect();
  }

  /** Runs one command within min(commandTimeoutMs, remaining deadline), or throws BackendFailure. */
  async #bounded<T>(op: string, send: (redis: Redis) => Promise<T>): Promise<T> {
    if (this.#closed) throw new BackendFailure("unavailable", op, "the cache is closed");
    const budget = currentDeadline().cap(this.#timeoutMs);
    const cutByDeadline = budget < this.#timeoutMs;
    if (budget <= 0) throw new BackendFailure("deadline", op, "the request deadline passed before the Redis command could be sent");
    const redis = this.#redis;
    if (redis === undefined) throw new BackendFailure("unavailable", op, "the Redis client is still loading or failed to load");
    if (redis.status !== "ready") throw new BackendFailure("unavailable", op, `Redis is not connected (connection state: ${redis.status})`);
    if (performance.now() < this.#coolUntil) {
      throw new BackendFailure("unavailable", op, `Redis is being skipped for up to ${COOL_DOWN_MS} ms after a command timed out`);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (cutByDeadline) reject(new BackendFailure("deadline", op, `the request deadline left ${Math.round(budget)} ms and Redis did not answer in time`));
        else {
          this.#coolUntil = performance.now() + COOL_DOWN_MS;
          reject(new BackendFailure("timeout", op, `Redis did not answer ${op} within ${this.#timeoutMs} ms`));
        }
      }, budget);
    });
    try {
      return await Promise.race([send(redis), timeout]);
    } catch (err) {
      if (err instanceof BackendFailure) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      // Defensive: an ioredis-level timeout is classified like ours.
      if (/timed out/i.test(msg)) {
        if (!cutByDeadline) this.#coolUntil = performance.now() + COOL_DOWN_MS;
        throw new BackendFailure(cutByDeadline ? "deadline" : "timeout", op, `Redis did not answer ${op} in time`, err);
      }
      const kind = /writeable|connect|ECONN|closed|EPIPE|socket/i.test(msg) ? "unavailable" : "error";
      throw new BackendFailure(kind, op, `Redis ${op} failed: ${msg}`, err);
    } finally {
      clearTimeout(timer);
    }
  }
}
