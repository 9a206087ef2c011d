/**
 * The requests a worker has in flight, oldest first, as a list linked through the entries
 * themselves. Why not a Set: a Set that lives as long as the worker keeps its hash table in V8's
 * old generation, and the tables V8 builds for it as requests come and go land there too. Under
 * load that was ~130 bytes of old-generation garbage a request and a full (mark-compact) collection
 * about every second on a hello-world worker, where a plain node:cluster worker had none
 * (docs/benchmarks.md, serve).
 * Adding and removing here allocates nothing.
 */
import type { InflightRequest } from "./inflight-request.js";

/** Insertion-ordered in-flight requests; O(1) add and delete, no allocation. */
export class InflightList implements Iterable<InflightRequest> {
  #head: InflightRequest | undefined = undefined;
  #tail: InflightRequest | undefined = undefined;
  #size = 0;

  /** How many requests are in flight. */
  get size(): number {
    return this.#size;
  }

  /** Appends `entry` (the newest); an entry already listed stays where it is. */
  add(entry: InflightRequest): void {
    if (entry.listed) return;
    entry.listed = true;
    entry.listPrev = this.#tail;
    entry.listNext = undefined;
    if (this.#tail === undefined) this.#head = entry;
    else this.#tail.listNext = entry;
    this.#tail = entry;
    this.#size++;
  }

  /** Removes `entry`; false when it was not listed. Its links are cleared, so it holds no later request alive. */
  delete(entry: InflightRequest): boolean {
    if (!entry.listed) return false;
    const { listPrev: prev, listNext: next } = entry;
    if (prev === undefined) this.#head = next;
    else prev.listNext = next;
    if (next === undefined) this.#tail = prev;
    else next.listPrev = prev;
    entry.listed = false;
    entry.listPrev = undefined;
    entry.listNext = undefined;
    this.#size--;
    return true;
  }

  /**
   * Oldest first. Adding or deleting entries while walking is safe, with one exception: deleting
   * both the entry being visited and the one after it ends the walk early (no caller does: an
   * answer for a request closes its response on a later tick).
   */
  *[Symbol.iterator](): Iterator<InflightRequest> {
    let entry = this.#head;
    while (entry !== undefined) {
      const next = entry.listNext;
      yield entry;
      entry = entry.listed ? entry.listNext : next;
    }
  }
}
