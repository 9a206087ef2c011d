/**
 * The read-through cache over a {@link CacheStore}. One flight per key and process: the first
 * caller of `wrap` reads the store (and loads on a miss), concurrent callers of the same key
 * wait for that flight instead of reading or loading again. On Redis a short SET NX PX lock
 * extends this across processes; a caller that does not get the lock polls for the holder's
 * value for at most `lockWaitMs`, then loads itself (a slow holder never blocks others for long).
 * Backend failures never fail a call: `wrap` answers from the loader and `get` returns undefined.
 */
import { currentDeadline, Deadline, runWithContext } from "../context/index.js";
import { errors } from "../errors/index.js";
import type { Logger } from "../telemetry/index.js";
import { decodeValue, encodeValue } from "./json-value.js";
import { OutageReporter } from "./outage-reporter.js";
import type { CacheStore, StoredEntry } from "./store.js";
import type { Cache, CacheStatus, SetOptions, WrapOptions } from "./types.js";

/** Resolved settings of {@link ReadThroughCache} (see CacheOptions for each one's meaning). */
export interface ReadThroughSettings {
  namespace: string;
  defaultTtlMs: number;
  staleTtlMs: number;
  lockTtlMs: number;
  lockWaitMs: number;
  refreshTimeoutMs: number;
  unavailableLogIntervalMs: number;
  /** The backend's URL with any password removed, for log lines. */
  displayUrl: string;
  log: Logger;
}

/** Where a flight's value came from; joiners count themselves by it. */
type Source = "hit" | "stale" | "load" | "remote" | "degraded";

interface Outcome {
  source: Source;
  json: string;
}

// Poll interval while another instance holds the load lock: short next to a typical load, cheap for Redis.
const LOCK_POLL_MS = 15;
const LOCK_PREFIX = "~lock:";

type Counters = Omit<CacheStatus, "backend" | "available" | "size" | "backendErrors">;

/** The {@link Cache} implementation behind `createCache`. */
export class ReadThroughCache implements Cache {
  readonly #store: CacheStore;
  readonly #s: ReadThroughSettings;
  readonly #prefix: string;
  readonly #flights = new Map<string, Promise<Outcome>>();
  readonly #refreshing = new Set<string>();
  readonly #c: Counters = {
    hits: 0,
    misses: 0,
    staleServed: 0,
    loaderRuns: 0,
    loaderErrors: 0,
    joins: 0,
    refreshes: 0,
    refreshErrors: 0,
    degraded: 0,
    lockWaitTimeouts: 0,
  };
  readonly #outages: OutageReporter;
  #closed = false;

  constructor(store: CacheStore, settings: ReadThroughSettings) {
    this.#store = store;
    this.#s = settings;
    this.#prefix = `${settings.namespace}:`;
    this.#outages = new OutageReporter({
      backend: store.kind,
      displayUrl: settings.displayUrl,
      intervalMs: settings.unavailableLogIntervalMs,
      log: settings.log,
    });
  }

  /** Called by the store when its connection becomes ready. */
  backendReady(): void {
    this.#outages.recovered();
  }

  async get<T>(key: string): Promise<T | undefined> {
    const k = this.#key(key);
    const e = this.#store.peek ? this.#store.peek(k) : await this.#read(k);
    if (e === undefined || e.freshUntil <= Date.now()) {
      this.#c.misses++;
      return undefined;
    }
    this.#c.hits++;
    return decodeValue<T>(e.json);
  }

  async set(key: string, value: unknown, options: SetOptions = {}): Promise<boolean> {
    const k = this.#key(key);
    const entry = this.#entry(encodeValue(value, key), options);
    return this.#write(k, entry);
  }

  async delete(key: string): Promise<boolean> {
    const k = this.#key(key);
    try {
      await this.#store.remove(k);
      return true;
    } catch (err) {
      this.#backendFailed(err, key);
      return false;
    }
  }

  wrap<T>(key: string, loader: () => T | Promise<T>, options: WrapOptions = {}): Promise<T> {
    // Not async (the hit path stays one Promise.resolve), so argument errors become rejections here.
    try {
      return this.#wrap(key, loader, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #wrap<T>(key: string, loader: () => T | Promise<T>, options: WrapOptions): Promise<T> {
    const k = this.#key(key);
    // Fast path (memory): a fresh hit costs one Map lookup and one JSON.parse, no flight.
    const peeked = this.#store.peek?.(k);
    if (peeked !== undefined && peeked.freshUntil > Date.now()) {
      this.#c.hits++;
      return Promise.resolve(decodeValue<T>(peeked.json));
    }
    const flying = this.#flights.get(k);
    if (flying) return this.#join<T>(flying, key);
    this.#life(options);
    // Checked here, not in the flight: an expired leader must not fail the joiners that come after it.
    if (currentDeadline().expired) {
      return Promise.reject(errors.deadlineExceeded(`The request deadline passed before cache key "${key}" could be read or loaded.`));
    }
    const flight = this.#lookup(k, key, loader, options);
    this.#flights.set(k, flight);
    const land = () => {
      if (this.#flights.get(k) === flight) this.#flights.delete(k);
    };
    flight.then(land, land);
    return flight.then((o) => decodeValue<T>(o.json));
  }

  async ready(timeoutMs = 2000): Promise<boolean> {
    return this.#store.ready(timeoutMs);
  }

  status(): CacheStatus {
    return { backend: this.#store.kind, available: this.#store.available(), ...this.#c, backendErrors: this.#outages.errors, size: this.#store.size() };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#store.close();
  }

  /** A caller that found a flight for its key: waits for it within its own deadline, counts by its outcome. */
  async #join<T>(flight: Promise<Outcome>, key: string): Promise<T> {
    const deadline = currentDeadline();
    let o: Outcome;
    if (Number.isFinite(deadline.remaining())) {
      let timer: NodeJS.Timeout | undefined;
      const expire = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(errors.deadlineExceeded(`The request deadline passed while waiting for cache key "${key}" to be loaded by another request.`)),
          deadline.cap(Number.POSITIVE_INFINITY),
        );
      });
      try {
        o = await Promise.race([flight, expire]);
      } finally {
        clearTimeout(timer);
      }
    } else {
      o = await flight;
    }
    if (o.source === "hit") this.#c.hits++;
    else if (o.source === "stale") this.#c.staleServed++;
    else {
      this.#c.misses++;
      this.#c.joins++;
    }
    return decodeValue<T>(o.json);
  }

  /** The leader of a flight: store read, then hit, stale (+ background refresh) or load. */
  async #lookup(k: string, key: string, loader: () => unknown, o: WrapOptions): Promise<Outcome> {
    let e: StoredEntry | undefined;
    try {
      e = await this.#store.read(k);
    } catch (err) {
      this.#backendFailed(err, key);
      return this.#loadDegraded(key, loader);
    }
    const now = Date.now();
    if (e !== undefined && e.freshUntil > now) {
      this.#c.hits++;
      return { source: "hit", json: e.json };
    }
    if (e !== undefined && e.staleUntil > now) {
      this.#c.staleServed++;
      this.#refreshInBackground(k, key, loader, o);
      return { source: "stale", json: e.json };
    }
    this.#c.misses++;
    if (!this.#store.shared) return this.#loadAndStore(k, key, loader, o, "load");
    return this.#loadUnderLock(k, key, loader, o);
  }

  /** Shared store: load while holding the key's lock, or wait (bounded) for the instance that holds it. */
  async #loadUnderLock(k: string, key: string, loader: () => unknown, o: WrapOptions): Promise<Outcome> {
    const lockKey = this.#prefix + LOCK_PREFIX + key;
    let token: string | undefined;
    try {
      token = await this.#store.acquireLock(lockKey, this.#s.lockTtlMs);
    } catch (err) {
      this.#backendFailed(err, key);
      return this.#loadDegraded(key, loader);
    }
    if (token !== undefined) return this.#counted(await this.#loadHoldingLock(k, key, loader, o, lockKey, token));
    const waitUntil = performance.now() + currentDeadline().cap(this.#s.lockWaitMs);
    while (performance.now() < waitUntil) {
      await sleep(Math.min(LOCK_POLL_MS, Math.max(1, waitUntil - performance.now())));
      try {
        const e = await this.#store.read(k);
        if (e !== undefined && e.freshUntil > Date.now()) {
          this.#c.joins++;
          return { source: "remote", json: e.json };
        }
        // The holder finished without a value (its loader failed) or its lock expired: take over.
        token = await this.#store.acquireLock(lockKey, this.#s.lockTtlMs);
      } catch (err) {
        this.#backendFailed(err, key);
        return this.#loadDegraded(key, loader);
      }
      if (token !== undefined) return this.#counted(await this.#loadHoldingLock(k, key, loader, o, lockKey, token));
    }
    this.#c.lockWaitTimeouts++;
    this.#s.log.debug({ event: "cache.lock.wait_timeout", key, waitedMs: this.#s.lockWaitMs }, "another instance's load of this key is slow; loading here too");
    return this.#loadAndStore(k, key, loader, o, "load");
  }

  /**
   * Holding the lock: re-read first, since another process may have loaded, stored and unlocked
   * between our miss and our lock (seen in tests when a poll lined up with the holder's finish);
   * else load and store. The value is written before the lock is released, so a waiter never
   * finds the lock free and the value absent.
   */
  async #loadHoldingLock(k: string, key: string, loader: () => unknown, o: WrapOptions, lockKey: string, token: string): Promise<Outcome> {
    try {
      let e: StoredEntry | undefined;
      try {
        e = await this.#store.read(k);
      } catch (err) {
        this.#backendFailed(err, key);
      }
      if (e !== undefined && e.freshUntil > Date.now()) return { source: "remote", json: e.json };
      return await this.#loadAndStore(k, key, loader, o, "load");
    } finally {
      this.#store.releaseLock(lockKey, token).catch((err: unknown) => this.#backendFailed(err, key));
    }
  }

  /** A lock-holding load that found another process's fresh value counts as a join. */
  #counted(out: Outcome): Outcome {
    if (out.source === "remote") this.#c.joins++;
    return out;
  }

  async #loadDegraded(key: string, loader: () => unknown): Promise<Outcome> {
    this.#c.degraded++;
    // The backend just failed: writing back would only fail again (or wait out another timeout).
    return this.#runLoader(key, loader).then((json) => ({ source: "degraded" as const, json }));
  }

  async #loadAndStore(k: string, key: string, loader: () => unknown, o: WrapOptions, source: Source): Promise<Outcome> {
    const json = await this.#runLoader(key, loader);
    await this.#write(k, this.#entry(json, o));
    return { source, json };
  }

  async #runLoader(key: string, loader: () => unknown): Promise<string> {
    this.#c.loaderRuns++;
    try {
      return encodeValue(await loader(), key);
    } catch (err) {
      this.#c.loaderErrors++;
      throw err;
    }
  }

  /** Stale-while-revalidate: one refresh per key at a time (per cluster on Redis), outside the request's deadline. */
  #refreshInBackground(k: string, key: string, loader: () => unknown, o: WrapOptions): void {
    if (this.#refreshing.has(k) || this.#closed) return;
    this.#refreshing.add(k);
    const ms = this.#s.refreshTimeoutMs;
    const ctx = { requestId: `cache-refresh:${key}`, deadline: Deadline.after(ms), signal: AbortSignal.timeout(ms) };
    const run = async () => {
      const lockKey = this.#prefix + LOCK_PREFIX + key;
      let token: string | undefined;
      if (this.#store.shared) {
        try {
          token = await this.#store.acquireLock(lockKey, this.#s.lockTtlMs);
        } catch (err) {
          this.#backendFailed(err, key);
          return;
        }
        // Another instance is already refreshing (or loading) this key.
        if (token === undefined) return;
      }
      // Counted when the loader really runs: holding the lock, we may find another process already refreshed it.
      const counted = () => {
        this.#c.refreshes++;
        return loader();
      };
      try {
        if (token !== undefined) await this.#loadHoldingLock(k, key, counted, o, lockKey, token);
        else await this.#loadAndStore(k, key, counted, o, "load");
      } catch (err) {
        this.#c.refreshErrors++;
        this.#s.log.warn(
          { event: "cache.refresh.failed", key, err },
          `refreshing cache key "${key}" failed; its stale value is served until its stale window ends`,
        );
      }
    };
    runWithContext(ctx, run).finally(() => this.#refreshing.delete(k));
  }

  async #read(k: string): Promise<StoredEntry | undefined> {
    try {
      return await this.#store.read(k);
    } catch (err) {
      this.#backendFailed(err, k.slice(this.#prefix.length));
      return undefined;
    }
  }

  async #write(k: string, entry: StoredEntry): Promise<boolean> {
    try {
      await this.#store.write(k, entry);
      return true;
    } catch (err) {
      this.#backendFailed(err, k.slice(this.#prefix.length));
      return false;
    }
  }

  #entry(json: string, o: SetOptions): StoredEntry {
    const { ttl, stale } = this.#life(o);
    const now = Date.now();
    return { json, freshUntil: now + ttl, staleUntil: now + ttl + stale };
  }

  /** The TTLs a call asks for, checked before any loader runs. */
  #life(o: SetOptions): { ttl: number; stale: number } {
    const ttl = o.ttlMs ?? this.#s.defaultTtlMs;
    const stale = o.staleTtlMs ?? this.#s.staleTtlMs;
    if (!(ttl > 0) || !Number.isFinite(ttl)) throw errors.internal(`Cache ttlMs must be a positive number of milliseconds, got ${String(ttl)}.`);
    if (!(stale >= 0) || !Number.isFinite(stale)) throw errors.internal(`Cache staleTtlMs must be 0 or more milliseconds, got ${String(stale)}.`);
    return { ttl, stale };
  }

  #key(key: string): string {
    if (typeof key !== "string" || key.length === 0) throw errors.internal(`Cache keys are non-empty strings, got ${JSON.stringify(key)}.`);
    if (key.startsWith(LOCK_PREFIX)) throw errors.internal(`Cache key "${key}" starts with "${LOCK_PREFIX}", which the cache keeps for its load locks.`);
    return this.#prefix + key;
  }

  /** Counts a backend failure (not after close(): every call then fails by design) and reports it. */
  #backendFailed(err: unknown, key: string): void {
    if (!this.#closed) this.#outages.failed(err, key);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
