/**
 * A borrowed resource. One Lease per borrow, so a stale reference kept after release cannot
 * give back a resource that has since been lent to someone else: it throws instead.
 */

/** A pooled resource and its bookkeeping (internal to the pool). */
export interface Slot<T> {
  readonly id: number;
  readonly resource: T;
  readonly createdAt: number;
  /** performance.now() after which the slot is replaced (max lifetime minus jitter); Infinity for never. */
  readonly expiresAt: number;
  /** When it was last returned (idle eviction). */
  lastUsedAt: number;
  /** When it was last known good: used, validated or pinged (validate-on-borrow, keepalive). */
  lastCheckedAt: number;
  lease: Lease<T> | undefined;
}

/** How a lease hands its resource back; implemented by the pool. */
export interface LeaseOwner<T> {
  settle(lease: Lease<T>, destroyReason: unknown): void;
}

/** A resource on loan from a {@link Pool}: call `release()` when done, or `destroy(err)` when it is broken. */
export class Lease<T> {
  /** The borrowed resource (a connection). */
  readonly resource: T;
  /** @internal */ readonly slot: Slot<T>;
  /** @internal performance.now() at borrow. */ readonly acquiredAt: number;
  /** @internal stack of the acquirer, only when leak detection is on. */ stack: string | undefined;
  /** @internal */ leakTimer: NodeJS.Timeout | undefined;
  #owner: LeaseOwner<T> | undefined;

  /** @internal */
  constructor(owner: LeaseOwner<T>, slot: Slot<T>, acquiredAt: number) {
    this.#owner = owner;
    this.slot = slot;
    this.resource = slot.resource;
    this.acquiredAt = acquiredAt;
    this.stack = undefined;
    this.leakTimer = undefined;
  }

  /** True once released or destroyed. */
  get settled(): boolean {
    return this.#owner === undefined;
  }

  /** Gives the resource back for reuse. Throws when called twice: a double release is a bug that would lend one connection to two callers. */
  release(): void {
    this.#take().settle(this, undefined);
  }

  /** Gives the resource back as broken: the pool closes it and opens a new one when needed. */
  destroy(reason: unknown = new Error("destroyed by its borrower")): void {
    this.#take().settle(this, reason ?? new Error("destroyed by its borrower"));
  }

  #take(): LeaseOwner<T> {
    const owner = this.#owner;
    if (owner === undefined) {
      throw new Error(
        `Connection #${this.slot.id} was released twice. Release each lease exactly once (use pool.use(fn) to have it done for you).`,
      );
    }
    this.#owner = undefined;
    return owner;
  }
}
