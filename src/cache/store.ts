/** The backend contract under the read-through cache: memory and Redis implement it. */

/** One cached value with its two deadlines (wall-clock ms, so instances on Redis agree). */
export interface StoredEntry {
  /** The value as JSON. */
  json: string;
  /** Until this time the value is fresh. */
  freshUntil: number;
  /** Until this time `wrap` may serve it stale while refreshing; then it is gone. */
  staleUntil: number;
}

/** Why a backend call failed: the backend's fault, or the request ran out of time first. */
export type BackendFailureKind = "unavailable" | "timeout" | "error" | "deadline";

/** Thrown by a store when a command did not complete; the cache then degrades to the loader. */
export class BackendFailure extends Error {
  readonly kind: BackendFailureKind;
  readonly op: string;

  constructor(kind: BackendFailureKind, op: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "BackendFailure";
    this.kind = kind;
    this.op = op;
  }
}

/** A cache backend; every async method throws {@link BackendFailure} only. */
export interface CacheStore {
  /** "memory" or "redis". */
  readonly kind: "memory" | "redis";
  /** True when several processes share the store, so loads need a cross-process lock. */
  readonly shared: boolean;
  /** Synchronous read, for backends that have one (the memory fast path). */
  peek?(key: string): StoredEntry | undefined;
  /** The entry under `key`, or undefined. */
  read(key: string): Promise<StoredEntry | undefined>;
  /** Stores `entry`; the backend drops it at `staleUntil`. */
  write(key: string, entry: StoredEntry): Promise<void>;
  /** Removes `key`. */
  remove(key: string): Promise<void>;
  /** Takes the load lock of `key` for `ttlMs`; resolves a token, or undefined when another holder has it. */
  acquireLock(key: string, ttlMs: number): Promise<string | undefined>;
  /** Releases the lock if `token` still holds it. */
  releaseLock(key: string, token: string): Promise<void>;
  /** True while the backend is believed reachable. */
  available(): boolean;
  /** Resolves true once reachable, false after `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean>;
  /** Entries held, when the backend can tell cheaply. */
  size(): number | undefined;
  /** Releases connections and timers. */
  close(): Promise<void>;
}
