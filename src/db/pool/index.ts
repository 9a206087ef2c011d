/** db/pool — the deadline-aware pool core shared by the database drivers. */
export { Pool } from "./pool.js";
export { Lease } from "./lease.js";
export { LatencyWindow } from "./latency-window.js";
export type { PoolOptions } from "./options.js";
export type { PoolEvents, DestroyReason } from "./events.js";
