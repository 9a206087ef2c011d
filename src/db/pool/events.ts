/** The pool's typed events (pg-pool emits one per transition; so does holdfast). */
import type { HoldfastError } from "../../errors/index.js";

/** Why a resource was closed. */
export type DestroyReason = "idle" | "lifetime" | "broken" | "validation" | "keepalive" | "closed";

/** Event name → listener arguments. Listener exceptions are caught and logged, never thrown into the pool. */
export interface PoolEvents {
  /** A resource was opened. */
  create: [info: { id: number; ms: number }];
  /** Opening a resource failed; the pool retries after `retryInMs` while callers wait. */
  createError: [info: { error: unknown; consecutiveFailures: number; retryInMs: number }];
  /** A resource was lent (waitedMs is 0 on the fast path). */
  acquire: [info: { id: number; waitedMs: number }];
  /** A lease was given back. */
  release: [info: { id: number; heldMs: number }];
  /** A resource was closed. */
  destroy: [info: { id: number; reason: DestroyReason; error?: unknown }];
  /** An acquire failed: POOL_TIMEOUT, POOL_QUEUE_FULL or DB_UNAVAILABLE. */
  acquireError: [error: HoldfastError];
  /** A resource has been held longer than leakDetectionThreshold. */
  leak: [info: { id: number; heldMs: number; stack: string | undefined }];
  /** validate() or a keepalive ping failed; the resource was replaced. */
  validationFailed: [info: { id: number; error: unknown; during: "borrow" | "keepalive" }];
}
