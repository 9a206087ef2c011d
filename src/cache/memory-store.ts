/**
 * Per-process backend: a Map in insertion order doubles as the LRU list (a hit re-inserts
 * the key at the end, eviction takes the first key), so get/set/evict are all O(1).
 */
import type { CacheStore, StoredEntry } from "./store.js";

/** The in-process LRU store behind `memory:`. */
export class MemoryStore implements CacheStore {
  readonly kind = "memory" as const;
  readonly shared = false;
  readonly #entries = new Map<string, StoredEntry>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  peek(key: string): StoredEntry | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    this.#entries.delete(key);
    if (e.staleUntil <= Date.now()) return undefined;
    this.#entries.set(key, e);
    return e;
  }

  async read(key: string): Promise<StoredEntry | undefined> {
    return this.peek(key);
  }

  async write(key: string, entry: StoredEntry): Promise<void> {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  async remove(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  // One process: the cache's in-process single-flight already runs one load per key.
  async acquireLock(): Promise<string | undefined> {
    return "local";
  }

  async releaseLock(): Promise<void> {}

  available(): boolean {
    return true;
  }

  async ready(): Promise<boolean> {
    return true;
  }

  size(): number {
    return this.#entries.size;
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }
}
