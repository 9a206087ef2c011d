/**
 * server/ — the supervisor process, the worker processes it forks, and the admin endpoint.
 * Where each behaviour lives (one hop from here):
 *
 * supervisor/ — the process `holdfast serve` runs
 *   serve.ts               startServer: check the config, start the supervisor and admin endpoint, wire signals
 *   supervisor.ts          the Supervisor: start, reload, shutdown, and which step each worker message sets off
 *   supervisor-state.ts    the worker table, phase and counters, declared once; emitEvent, the one event path
 *   worker-spawn.ts        forking a worker (node:cluster, shared listen socket, environment without the token)
 *   heartbeat-watch.ts     a missed heartbeat kills and replaces the worker; recycle.maxRss recycles it
 *   worker-restart.ts      a worker exited: replaced at once, after its slot's backoff, or a crash loop stops all
 *   restart-policy.ts      the backoff and crash-loop decision itself (pure)
 *   worker-replace.ts      one worker replaced with no request dropped (recycle; each step of a reload)
 *   rolling-reload.ts      SIGHUP: re-read the config, roll every worker, resize
 *   worker-drain.ts        asking a worker to drain, retiring a replaced one, the graceful shutdown
 *   connection-rescue.ts   connections handed to a worker that died before taking them go to another
 *   supervisor-metrics.ts  cluster totals that never go back across restarts and reloads
 *   admin-server.ts        /healthz /readyz /status /metrics /events /history; admin-dashboard.ts,
 *                          dashboard-feed.ts and dashboard-banner.ts serve the web dashboard
 *   terminal-notices.ts    one terminal line for a watchdog kill, a crash or a burst of shedding
 * worker/ — each forked process
 *   worker-main.ts         the worker's life: config, engines, app, listen, heartbeat, ready; drain, exit
 *   http-server.ts         Node's timeouts, 400/408 for requests that never reach the app, the socket table
 *   request-handler.ts     every request: context, admission, deadline, the app, finish and log
 *   inflight-request.ts    the per-request object (id, deadline, abort signal, admission ticket)
 *   inflight-list.ts       the requests in flight, oldest first, linked through the entries (no allocation)
 *   deadline-sweep.ts      one timer for every request's deadline (the 504)
 *   error-response.ts      the JSON error body of holdfast's own answers
 *   app-loader.ts          the user's export (listener, framework app, defineApp factory) as a listener;
 *                          app-context.ts the ctx it gets (db, cache, log, config)
 *   lazy-database.ts, cache-gauges.ts, database-gauges.ts, stall-watchdog.ts, request-target.ts
 * admission/ — shed only when saturated (its index.ts maps it)
 * shared by both processes: messages.ts (IPC), lifecycle.ts (phases, drawn in docs/lifecycle.md),
 *   drain-policy.ts (how long idle sockets may wait), start-errors.ts (why the start failed)
 */
export { startServer, type RunningServer } from "./supervisor/serve.js";
export { defineApp, type AppFactory } from "./worker/app-loader.js";
export type { AppContext } from "./worker/app-context.js";
export { SUPERVISOR_PHASES, WORKER_PHASES } from "./lifecycle.js";
export type { StatusDocument } from "./supervisor/admin-server.js";
export { startTerminalNotices, type TerminalNoticeOptions } from "./supervisor/terminal-notices.js";
