/**
 * Lifecycle as data (as Fastify keeps its hooks): the phases of the supervisor and of a
 * worker, in order, with what happens in each. docs/lifecycle.md is drawn from these lists
 * and a test keeps the two in step.
 */

/** Supervisor phases. */
export const SUPERVISOR_PHASES = [
  { phase: "starting", does: "Load and check config, fork the workers, wait until every one listens (or stop with the app's load error)." },
  { phase: "running", does: "Watch heartbeats, replace stuck and crashed workers, recycle, roll on SIGHUP, serve the admin endpoint." },
  { phase: "stopping", does: "On SIGTERM/SIGINT or a crash loop: readiness false, every worker drains, stragglers are killed after timeouts.graceful." },
  { phase: "stopped", does: "All workers have exited; the process exits 0 (1 after a crash loop)." },
] as const;

/** Worker phases. */
export const WORKER_PHASES = [
  { phase: "starting", does: "Forked; loads the app (running a defineApp factory), starts listening on the shared socket." },
  { phase: "ready", does: "Serving; heartbeats every second with its numbers; the watchdog thread watches the event loop." },
  {
    phase: "draining",
    does: "Stopped accepting; later responses carry Connection: close; in-flight requests finish up to timeouts.graceful; idle keep-alive sockets are left for the proxy to close after a reload or recycle (bounded by proxy.idleTimeout), closed after 1 s idle on shutdown.",
  },
  { phase: "exited", does: "Gone; the supervisor replaces it if it did not mean it to go." },
] as const;

/** A supervisor phase name. */
export type SupervisorPhase = (typeof SUPERVISOR_PHASES)[number]["phase"];
/** A worker phase name. */
export type WorkerPhase = (typeof WORKER_PHASES)[number]["phase"];
