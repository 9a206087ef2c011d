/**
 * The bounded wait queue in front of the concurrency limit: a ring buffer (as undici's
 * FixedQueue) served oldest first, or newest first under sustained overload (adaptive LIFO, see
 * overload-detector.ts for when that is), with lazy deletion: an entry whose client left is
 * marked dead in O(1) and skipped when reached.
 */

/** One waiting request. */
export interface QueueEntry {
  /** Clock time it was queued. */
  readonly enqueuedAt: number;
  /** Set once the entry has left the queue (run, shed or dropped). */
  done: boolean;
}

/** A bounded double-ended queue of {@link QueueEntry}. */
export class AdmissionQueue<E extends QueueEntry> {
  readonly capacity: number;
  #buf: (E | undefined)[];
  #head = 0;
  /** Slots in use, dead entries included. */
  #slots = 0;
  /** Live entries. */
  length = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#buf = new Array<E | undefined>(Math.max(1, capacity));
  }

  /** Adds at the back; the caller checks `length < capacity` first (and compacts if needed). */
  push(e: E): void {
    if (this.#slots === this.#buf.length) this.#compact();
    this.#buf[(this.#head + this.#slots) % this.#buf.length] = e;
    this.#slots++;
    this.length++;
  }

  /** Marks an entry dead (client gone, shed from the middle); its slot is reclaimed lazily. */
  remove(e: E): void {
    if (e.done) return;
    e.done = true;
    this.length--;
  }

  /** The oldest live entry, without taking it. */
  peekOldest(): E | undefined {
    this.#trimFront();
    return this.#slots > 0 ? this.#buf[this.#head] : undefined;
  }

  /** Takes the oldest live entry (FIFO) or the newest (LIFO). */
  take(lifo: boolean): E | undefined {
    const e = lifo ? this.#popBack() : this.#popFront();
    if (e) {
      e.done = true;
      this.length--;
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
