/**
 * A growable FIFO ring buffer. Waiter queues use it instead of `Array.shift()`, which is
 * O(n) per call on large arrays and turns a long queue into quadratic work (undici's FixedQueue).
 */
export class RingQueue<T> {
  #items: (T | undefined)[];
  #head = 0;
  #length = 0;

  constructor(capacity = 16) {
    this.#items = new Array(capacity);
  }

  /** Number of queued items. */
  get length(): number {
    return this.#length;
  }

  /** Appends at the tail. */
  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) % this.#items.length] = item;
    this.#length++;
  }

  /** Removes and returns the head, or undefined when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined; // let the item be collected
    this.#head = (this.#head + 1) % this.#items.length;
    this.#length--;
    return item;
  }

  /** The head without removing it. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** Removes every item, returning them in order. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }

  #grow(): void {
    const bigger: (T | undefined)[] = new Array(this.#items.length * 2);
    for (let i = 0; i < this.#length; i++) bigger[i] = this.#items[(this.#head + i) % this.#items.length];
    this.#items = bigger;
    this.#head = 0;
  }
}
