/**
 * Per-process backend: a Map in insertion order doubles as the LRU list (eviction takes the
 * first key), so get/set/evict are all O(1). A hit re-inserts its key at the end only when the
 * key has drifted into the older half of the order: re-inserting on every hit (delete + set)
 * halved hit throughput, and a key hit often never reaches the older half, so it is never the
 * one evicted. The bound on entries is exact; the eviction order is LRU to within half the map.
 */
import type { CacheStore, StoredEntry } from "./store.js";

interface Slot {
  entry: StoredEntry;
  seq: number;
}

/** The in-process LRU store behind `memory:`. */
export class MemoryStore implements CacheStore {
  readonly kind = "memory" as const;
  readonly shared = false;
  readonly #entries = new Map<string, Slot>();
  readonly #maxEntries: number;
  readonly #moveAfter: number;
  // Position counter: a slot's `seq` says when it was last put at the end of the order.
  #seq = 0;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
    this.#moveAfter = Math.max(1, Math.floor(maxEntries / 2));
  }

  peek(key: string): StoredEntry | undefined {
    const slot = this.#entries.get(key);
    if (slot === undefined) return undefined;
    if (slot.entry.staleUntil <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    if (this.#seq - slot.seq >= this.#moveAfter) {
      this.#entries.delete(key);
      slot.seq = ++this.#seq;
      this.#entries.set(key, slot);
    }
    return slot.entry;
  }

  async read(key: string): Promise<StoredEntry | undefined> {
    return this.peek(key);
  }

  async write(key: string, entry: StoredEntry): Promise<void> {
    this.#entries.delete(key);
    this.#entries.set(key, { entry, seq: ++this.#seq });
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
