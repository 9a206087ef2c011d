/**
 * How a draining worker treats its idle keep-alive sockets, in one place for the worker (which
 * drains) and the supervisor (which waits for it and kills it past the bound).
 *
 * Closing an idle kept-alive socket from the server side always races the client: a proxy may
 * have just picked that socket from its pool and sent a request on it. nginx then logs "upstream
 * prematurely closed connection" and answers 502; it retries the request elsewhere only when it
 * is idempotent (`proxy_next_upstream` never passes on a POST that was sent without
 * `non_idempotent`). The only close that cannot race is the client's own, or one after a response
 * that said `Connection: close`. So a worker that a replacement covers (reload, recycle) leaves its
 * idle sockets open: every request still arriving on one is answered with `Connection: close`,
 * and the proxy closes the rest itself when its idle timeout (proxy.idleTimeout, below
 * timeouts.keepAlive) passes. A worker stopping with its whole instance (shutdown) closes sockets
 * idle a second: nothing replaces it, and the proxy has stopped sending (readiness false, preStop).
 */
import type { Config } from "../config/index.js";
import type { SupervisorMessage } from "./messages.js";

type DrainReason = SupervisorMessage["reason"];

/** How long a socket must sit idle before a shutdown drain closes it (ms). */
export const SHUTDOWN_IDLE_CLOSE_MS = 1000;

/** True when a replacement serves in the worker's place, so its idle sockets can wait for the client. */
export function leavesIdleSocketsToClient(reason: DrainReason): boolean {
  return reason === "reload" || reason === "recycle";
}

/**
 * How long after its drain starts a worker may keep idle keep-alive sockets open (ms): until the
 * proxy's idle timeout has closed them (plus a second), never past timeouts.keepAlive, when Node
 * closes an idle socket anyway. A shutdown waits only as long as in-flight requests may run.
 */
export function idleSocketsBoundMs(c: Config, reason: DrainReason): number {
  if (!leavesIdleSocketsToClient(reason)) return c.timeouts.graceful;
  return Math.max(c.timeouts.graceful, Math.min(c.proxy.idleTimeout, c.timeouts.keepAlive) + 1000);
}
