/**
 * The bounded wait queue in front of the concurrency limit.
 *
 * Shedding by sojourn time follows the controlled-delay idea of CoDel (RFC 8289: a `target`
 * for acceptable standing delay, an `interval` over which the delay must stay above target
 * before acting) in the form Facebook described for RPC queues ("Fail at Scale", 2015):
 * while the queue has been empty within the last `interval`, an entry may wait up to
 * 2 × `target` (Facebook allows the whole interval; we cap it so a shed answer stays fast);
 * once it has stayed non-empty for longer than `interval` (a standing queue, i.e. sustained
 * overload), an entry may wait only `target`, and the queue is served LIFO (adaptive LIFO) so
 * the freshest requests, whose clients are still waiting, go first.
 *
 * A ring buffer (as undici's FixedQueue) with lazy deletion: an entry whose client left is
 * marked dead in O(1) and skipped when reached.
 */

/** One waiting request. */
export interface QueueEntry {
  /** Clock time it was queued. */
  readonly enqueuedAt: number;
  /** Set once the entry has left the queue (run, shed or dropped). */
  done: boolean;
}

/** A bounded double-ended queue of {@link QueueEntry} with the adaptive-LIFO/CoDel clock. */
export class AdmissionQueue<E extends QueueEntry> {
  readonly capacity: number;
  readonly #target: number;
  readonly #interval: number;
  #buf: (E | undefined)[];
  #head = 0;
  /** Slots in use, dead entries included. */
  #slots = 0;
  /** Live entries. */
  length = 0;
  /** Last clock time the queue was empty. */
  #lastEmptyAt: number;
  /** Last clock time a standing queue was seen. */
  #overloadSeenAt = Number.NEGATIVE_INFINITY;

  constructor(capacity: number, target: number, interval: number, now: number) {
    this.capacity = capacity;
    this.#target = target;
    this.#interval = interval;
    this.#buf = new Array<E | undefined>(Math.max(1, capacity));
    this.#lastEmptyAt = now;
  }

  /**
   * True when the queue has not been empty for longer than `interval` (sustained overload), and
   * for one `interval` after that was last seen: shedding empties the queue now and then under
   * overload, and flapping back to the lenient wait each time would let waits reach `interval`.
   */
  overloaded(now: number): boolean {
    if (this.length > 0 && now - this.#lastEmptyAt > this.#interval) {
      this.#overloadSeenAt = now;
      return true;
    }
    return now - this.#overloadSeenAt < this.#interval;
  }

  /**
   * How long an entry may wait right now: `target` under sustained overload; otherwise twice
   * `target` (capped at `interval`), so a burst may queue briefly but no shed answer takes longer
   * than that: a 503 after a long wait is the slow failure this queue exists to avoid.
   */
  maxWait(now: number): number {
    return this.overloaded(now) ? this.#target : Math.min(this.#interval, 2 * this.#target);
  }

  /** Adds at the back; the caller checks `length < capacity` first (and compacts if needed). */
  push(e: E, now: number): void {
    if (this.length === 0) this.#lastEmptyAt = now;
    if (this.#slots === this.#buf.length) this.#compact();
    this.#buf[(this.#head + this.#slots) % this.#buf.length] = e;
    this.#slots++;
    this.length++;
  }

  /** Marks an entry dead (client gone, shed from the middle); its slot is reclaimed lazily. */
  remove(e: E, now: number): void {
    if (e.done) return;
    e.done = true;
    this.length--;
    if (this.length === 0) this.#lastEmptyAt = now;
  }

  /** The oldest live entry, without taking it. */
  peekOldest(): E | undefined {
    this.#trimFront();
    return this.#slots > 0 ? this.#buf[this.#head] : undefined;
  }

  /** Takes the oldest live entry (FIFO) or the newest (LIFO). */
  take(now: number, lifo: boolean): E | undefined {
    const e = lifo ? this.#popBack() : this.#popFront();
    if (e) {
      e.done = true;
      this.length--;
      if (this.length === 0) this.#lastEmptyAt = now;
    }
    return e;
  }

  #trimFront(): void {
    while (this.#slots > 0) {
      const e = this.#buf[this.#head];
      if (e && !e.done) return;
      this.#buf[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.#buf.length;
      this.#slots--;
    }
  }

  #trimBack(): void {
    while (this.#slots > 0) {
      const i = (this.#head + this.#slots - 1) % this.#buf.length;
      const e = this.#buf[i];
      if (e && !e.done) return;
      this.#buf[i] = undefined;
      this.#slots--;
    }
  }

  #popFront(): E | undefined {
    this.#trimFront();
    if (this.#slots === 0) return undefined;
    const e = this.#buf[this.#head];
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#buf.length;
    this.#slots--;
    return e;
  }

  #popBack(): E | undefined {
    this.#trimBack();
    if (this.#slots === 0) return undefined;
    const i = (this.#head + this.#slots - 1) % this.#buf.length;
    const e = this.#buf[i];
    this.#buf[i] = undefined;
    this.#slots--;
    return e;
  }

  /** Squeezes out dead entries so a full ring with dead slots can take more live ones. */
  #compact(): void {
    const live: E[] = [];
    for (let k = 0; k < this.#slots; k++) {
      const e = this.#buf[(this.#head + k) % this.#buf.length];
      if (e && !e.done) live.push(e);
    }
    // Only reached when every slot is used; dead slots exist because length < capacity was checked.
    const size = Math.max(this.#buf.length, live.length + 1);
    this.#buf = new Array<E | undefined>(size);
    for (let k = 0; k < live.length; k++) this.#buf[k] = live[k];
    this.#head = 0;
    this.#slots = live.length;
  }
}
