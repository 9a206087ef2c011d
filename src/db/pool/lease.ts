/**
 * A borrowed resource. One Lease per borrow, so a stale reference kept after release cannot
 * give back a resource that has since been lent to someone else: it throws instead.
 */

/** A pooled resource and its bookkeeping (internal to the pool). */
export interface Slot<T> {
  readonly id: number;
  readonly resource: T;
  readonly createdAt: number;
  /** Pool clock (`now` option) time after which the slot is replaced (max lifetime minus jitter); Infinity for never. */
  readonly expiresAt: number;
  /** When it was last returned (idle eviction). */
  lastUsedAt: number;
  /** When it was last known good: used, validated or pinged (validate-on-borrow, keepalive). */
  lastCheckedAt: number;
  /** The current borrow, if lent. */
  lease: Lease<T> | undefined;
  /** Pool clock time at the current borrow. */
  acquiredAt: number;
  /** Stack of the current borrower, only with leak detection on. */
  stack: string | undefined;
  /** Fires the leak report for the current borrow. */
  leakTimer: NodeJS.Timeout | undefined;
}

/** How a lease hands its resource back; implemented by the pool. */
export interface LeaseOwner<T> {
  settle(slot: Slot<T>, destroyReason: unknown): void;
}

/** A resource on loan from a {@link Pool}: call `release()` when done, or `destroy(err)` when it is broken. */
export class Lease<T> {
  /** The borrowed resource (a connection). */
  readonly resource: T;
  readonly #slot: Slot<T>;
  #owner: LeaseOwner<T> | undefined;

  /** Made by the pool only. */
  constructor(owner: LeaseOwner<T>, slot: Slot<T>) {
    this.#owner = owner;
    this.#slot = slot;
    this.resource = slot.resource;
  }

  /** True once released or destroyed. */
  get settled(): boolean {
    return this.#owner === undefined;
  }

  /** Gives the resource back for reuse. Throws when called twice: a double release is a bug that would lend one connection to two callers. */
  release(): void {
    this.#take().settle(this.#slot, undefined);
  }

  /** Gives the resource back as broken: the pool closes it and opens a new one when needed. */
  destroy(reason: unknown = new Error("destroyed by its borrower")): void {
    this.#take().settle(this.#slot, reason ?? new Error("destroyed by its borrower"));
  }

  #take(): LeaseOwner<T> {
    const owner = this.#owner;
    if (owner === undefined) {
      throw new Error(`Connection #${this.#slot.id} was released twice. Release each lease exactly once (use pool.use(fn) to have it done for you).`);
    }
    this.#owner = undefined;
    return owner;
  }
}
