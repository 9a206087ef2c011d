/**
 * Entry point of a worker process (forked by the supervisor through node:cluster). Its life in
 * named steps: read the config the supervisor passed, open the engines (database, cache,
 * admission), load the app, listen on the shared socket, heartbeat, say ready; and on request
 * drain: stop accepting, finish in-flight requests, let keep-alive sockets close without racing
 * the client (drain-policy.ts), send a last heartbeat, close the engines, exit.
 */
import type { RequestListener, Server } from "node:http";
import { Server as NetServer } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { buildCache } from "../../cache/index.js";
import type { Config } from "../../config/index.js";
import { useRequestContext } from "../../context/index.js";
import { isHoldfastError } from "../../errors/index.js";
import { createLogger, WorkerMetrics } from "../../telemetry/index.js";
import { createAdmissionController, recordAdmissionTrace, registerAdmissionGauges } from "../admission/index.js";
import { idleSocketsBoundMs, leavesIdleSocketsToClient, SHUTDOWN_IDLE_CLOSE_MS } from "../drain-policy.js";
import type { SupervisorMessage, WorkerMessage, WorkerStats } from "../messages.js";
import { loadApp } from "./app-loader.js";
import { registerCacheGauges } from "./cache-gauges.js";
import { registerDatabaseGauges } from "./database-gauges.js";
import { createHttpServer, listen, requestDone, type SocketTable } from "./http-server.js";
import { LazyDatabase } from "./lazy-database.js";
import { createRequestHandler, type RequestHandler } from "./request-handler.js";
import { exposeInflight, startStallWatchdog } from "./stall-watchdog.js";

type DrainReason = SupervisorMessage["reason"];

/** The heartbeat: its report (also sent once more at the end of a drain) and its timer. */
interface Heartbeat {
  report(): Promise<WorkerMessage>;
  stop(): void;
}

/** What a serving worker has; set once it listens (a drain before that just exits). */
interface Serving {
  handler: RequestHandler;
  server: Server;
  heartbeat: Heartbeat;
}

const config = readConfig();
const workerId = Number(process.env.HOLDFAST_WORKER_ID ?? 0);
const log = await createLogger({ ...config.log, pretty: config.log.pretty, base: { role: "worker", workerId }, explainPrettyFallback: false });
const metrics = new WorkerMetrics({ workerId });
const hbTimeout = config.timeouts.heartbeat;
const watchdog = startWatchdogThread();
const { db, cache, admission } = openEngines();
// One read of the database's status per heartbeat: the report and the gauges take the same one.
const dbStatus = metrics.perScrape(() => (db.isOpen ? db.status() : undefined));
registerDatabaseGauges(metrics, dbStatus);
const sockets: SocketTable = new Map();

let exitCode = 0;
/** Set when the supervisor asked this worker to stop before it was serving. */
let stopAsked = false;
let serving: Serving | undefined;
/** Set when a drain starts; a shutdown that arrives during a reload's drain shortens it (see drain). */
let drainPlan: { leaveIdle: boolean; socketsUntil: number } | undefined;

process.on("message", (m: unknown) => {
  const msg = m as Partial<SupervisorMessage> | null;
  if (msg?.hf === "drain" && msg.reason) drainNow(msg.reason);
});
// SIGTERM/SIGINT reach workers too when the whole process group is signalled (Ctrl-C);
// the supervisor coordinates shutdown, so the worker only drains.
process.on("SIGTERM", () => drainNow("shutdown"));
process.on("SIGINT", () => drainNow("shutdown"));
process.on("uncaughtException", onUncaught);

start().catch(reportStartFailure);

/** The worker's start, step by step. */
async function start(): Promise<void> {
  const app = await loadApp(config.app as string, async () => {
    // A defineApp factory gets ctx.db and ctx.cache, whose waits are bounded by the request's
    // deadline: its requests carry their context from the first one (see context/index.ts).
    useRequestContext();
    return { db, cache, log, config };
  });
  const handler = createHandler(app);
  exposeInflight(() => oldestInflight(handler));
  const server = createHttpServer(config, handler.listener, sockets);
  // Told to stop while loading the app: exiting is already under way, so never start listening
  // (connections accepted now would be cut when the process exits a moment later).
  if (stopAsked) return;
  const port = await listen(server, config);
  const heartbeat = startHeartbeat(handler);
  tickWatchdogThread();
  serving = { handler, server, heartbeat };
  admission?.ready();
  send({ hf: "ready", port });
  log.info({ event: "worker.start", workerId, port }, `worker ${workerId} listening`);
}

function send(m: WorkerMessage): void {
  if (process.connected) process.send?.(m);
}

/** The config the supervisor passed in HOLDFAST_CONFIG; a worker started any other way exits. */
function readConfig(): Config {
  const c = JSON.parse(process.env.HOLDFAST_CONFIG ?? "null") as Config | null;
  if (!c || !process.send) {
    process.stderr.write("holdfast: worker-main is started by `holdfast serve`, not directly.\n");
    process.exit(2);
  }
  return c;
}

/** The thread that captures the stack when the event loop stalls, for the supervisor's worker.timeout. */
function startWatchdogThread(): ReturnType<typeof startStallWatchdog> | undefined {
  const stallFile = process.env.HOLDFAST_STALL_FILE;
  return stallFile && hbTimeout > 0
    ? startStallWatchdog({ captureAfterMs: Math.max(200, Math.min(hbTimeout - 800, hbTimeout * 0.8)), file: stallFile })
    : undefined;
}

function tickWatchdogThread(): void {
  const tick = watchdog ? setInterval(() => watchdog.tick(), 100) : undefined;
  tick?.unref();
}

/** The database (opened on first use), the cache and admission control, with their gauges. */
function openEngines() {
  const db = new LazyDatabase(config, log);
  const cache = buildCache({
    url: config.cache.url,
    namespace: config.cache.namespace,
    maxEntries: config.cache.maxEntries,
    defaultTtlMs: config.cache.ttl,
    staleTtlMs: config.cache.staleTtl,
    commandTimeoutMs: config.cache.commandTimeout,
    lockWaitMs: config.cache.lockWait,
    log,
  });
  registerCacheGauges(metrics, () => cache.status());
  const controller = config.admission.mode === "off" ? undefined : createAdmissionController(config.admission, { log });
  // HOLDFAST_ADMISSION_TRACE=<dir>: record every admission decision for offline replay (docs/overload.md).
  const traceDir = process.env.HOLDFAST_ADMISSION_TRACE;
  const admission = controller && traceDir ? recordAdmissionTrace(controller, traceDir) : controller;
  if (admission) registerAdmissionGauges(metrics, admission);
  return { db, cache, admission };
}

/** The request handler around the app; past recycle.maxRequests (plus jitter) it asks to be recycled, once. */
function createHandler(app: RequestListener): RequestHandler {
  const r = config.recycle;
  const jitter = r.maxRequestsJitter > 0 ? Math.floor(Math.random() * (r.maxRequestsJitter + 1)) : 0;
  const recycleAt = r.maxRequests > 0 ? r.maxRequests + jitter : 0;
  let recycleAsked = false;
  const handler = createRequestHandler({
    app,
    deadlineMs: config.timeouts.deadline,
    log,
    metrics,
    admission,
    logRequests: config.log.requests,
    workerId,
    requestStart: config.admission.requestStart,
    onDone(req, now) {
      requestDone(req, now);
      if (recycleAt > 0 && !recycleAsked && handler.counts.requests >= recycleAt) {
        recycleAsked = true;
        send({ hf: "recycle", reason: "maxRequests", requests: handler.counts.requests });
      }
    },
  });
  return handler;
}

/** The oldest in-flight requests, as the watchdog and /status report them. */
function oldestInflight(handler: RequestHandler, limit = Number.POSITIVE_INFINITY): WorkerStats["oldest"] {
  const now = performance.now();
  const out: WorkerStats["oldest"] = [];
  for (const r of handler.inflight) {
    if (out.length >= limit) break;
    out.push({ reqId: r.reqId, method: r.method, path: r.path, ageMs: Math.round(now - r.start) });
  }
  return out;
}

/** Heartbeat: proves the event loop turns, and carries the numbers /status shows. */
function startHeartbeat(handler: RequestHandler): Heartbeat {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const every = Math.max(100, Math.min(1000, Math.floor(hbTimeout / 10) || 1000));
  const report = async (): Promise<WorkerMessage> => {
    const mem = process.memoryUsage();
    const oldest = oldestInflight(handler, 20);
    const stats: WorkerStats = {
      requests: handler.counts.requests,
      inflight: handler.inflight.size,
      status: handler.counts.status,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      // The histogram measures whole timer periods; what is above the 10 ms resolution is lag.
      eventLoopLagMs: Math.max(0, Math.round((lag.percentile(99) / 1e6 - 10) * 10) / 10),
      oldest,
      db: dbStatus(),
      cache: cache.status(),
      admission: admission?.status(),
    };
    lag.reset();
    return { hf: "heartbeat", stats, metrics: await metrics.snapshot() };
  };
  const beat = setInterval(async () => send(await report()), every);
  return { report, stop: () => clearInterval(beat) };
}

/** Drains a serving worker; one asked to stop before it serves has nothing in flight and just exits. */
function drainNow(reason: DrainReason): void {
  if (serving) void drain(serving, reason);
  else {
    if (stopAsked) return;
    stopAsked = true;
    log.info({ event: "worker.drain", reason, inflight: 0 }, "asked to stop before serving; exiting");
    log.flush();
    setTimeout(() => process.exit(0), 20);
  }
}

/** The drain, step by step; a second call (a shutdown during a reload's drain) only shortens the first. */
async function drain({ handler, server, heartbeat }: Serving, reason: DrainReason): Promise<void> {
  const drainStart = performance.now();
  if (drainPlan) return shortenDrain(drainPlan, reason, drainStart);
  handler.setDraining();
  const plan = { leaveIdle: leavesIdleSocketsToClient(reason), socketsUntil: drainStart + idleSocketsBoundMs(config, reason) };
  drainPlan = plan;
  log.info({ event: "worker.drain", reason, inflight: handler.inflight.size, sockets: sockets.size, leaveIdle: plan.leaveIdle }, `worker draining (${reason})`);
  stopAccepting(server);
  await waitForQuiet(handler, plan, drainStart + config.timeouts.graceful);
  closeConnections(handler);
  heartbeat.stop();
  await sendLastHeartbeat(heartbeat);
  await closeEngines();
  log.flush();
  setTimeout(() => process.exit(exitCode), 50);
}

/** The instance is stopping now: nothing will replace this worker, so its idle sockets need not wait. */
function shortenDrain(plan: NonNullable<typeof drainPlan>, reason: DrainReason, now: number): void {
  if (plan.leaveIdle && !leavesIdleSocketsToClient(reason)) {
    plan.leaveIdle = false;
    plan.socketsUntil = Math.min(plan.socketsUntil, now + idleSocketsBoundMs(config, reason));
  }
}

/**
 * Stops accepting without http.Server#close(), which also drops idle keep-alive sockets at
 * once (closeIdleConnections): a client may be writing a request on one of them right now.
 */
function stopAccepting(server: Server): void {
  NetServer.prototype.close.call(server);
}

/**
 * Resolves when nothing is in flight and every socket is closed, when timeouts.graceful has
 * passed with requests still in flight, or when idle sockets may wait no longer. Says `drained`
 * once nothing is in flight: a rolling reload may move on while idle sockets wait for their client.
 */
function waitForQuiet(handler: RequestHandler, plan: NonNullable<typeof drainPlan>, graceUntil: number): Promise<void> {
  let quietSent = false;
  return new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      const now = performance.now();
      let busy = 0;
      for (const [socket, s] of sockets) {
        if (s.busy > 0) busy++;
        // Responses now carry Connection: close. Idle sockets are left to the client while a
        // replacement serves (drain-policy.ts says why); a stopping instance closes them.
        else if (!plan.leaveIdle && now - s.idleSince > SHUTDOWN_IDLE_CLOSE_MS) socket.end();
      }
      const quiet = busy === 0 && handler.inflight.size === 0;
      if (quiet && !quietSent) {
        quietSent = true;
        send({ hf: "drained", idleSockets: sockets.size });
      }
      if ((quiet && sockets.size === 0) || (!quiet && now >= graceUntil) || now >= plan.socketsUntil) {
        clearInterval(poll);
        resolve();
      }
    }, 50);
  });
}

/** Closes what is left: requests still in flight past timeouts.graceful are cut (and logged). */
function closeConnections(handler: RequestHandler): void {
  const left = handler.inflight.size;
  if (left > 0)
    log.warn(
      { event: "worker.drain.timeout", inflight: left, gracefulMs: config.timeouts.graceful },
      "graceful timeout passed with requests still in flight; closing them",
    );
  for (const socket of sockets.keys()) socket.destroy();
}

/** A last report, so the supervisor keeps this worker's final counts (cluster counters never go back). */
async function sendLastHeartbeat(heartbeat: Heartbeat): Promise<void> {
  const last = await heartbeat.report();
  if (process.connected) await new Promise<void>((resolve) => process.send?.(last, undefined, undefined, () => resolve()));
}

async function closeEngines(): Promise<void> {
  admission?.close();
  await db.close().catch((err: unknown) => log.warn({ event: "db.close.failed", err }, "closing the database failed"));
  await cache.close().catch((err: unknown) => log.warn({ event: "cache.close.failed", err }, "closing the cache failed"));
  await watchdog?.stop();
}

function onUncaught(err: Error): void {
  // Thrown while exiting (an exit hook failed): process.exit is under way, and a second call
  // skips the hooks and ends the process instead of leaving it alive half-stopped.
  if (stopAsked) process.exit(exitCode);
  log.fatal({ event: "worker.uncaught", err }, "uncaught exception: finishing in-flight requests, then this worker is replaced");
  exitCode = 1;
  if (!serving) {
    log.flush();
    process.exit(1);
  }
  send({ hf: "fatal", message: err instanceof Error ? err.message : String(err) });
  void drain(serving, "fatal");
}

/** The app could not be loaded or the port taken: the supervisor gets the code and stack to explain it. */
function reportStartFailure(err: unknown): void {
  const code = isHoldfastError(err) ? err.code : "APP_LOAD_FAILED";
  const message = err instanceof Error ? err.message : String(err);
  log.fatal({ event: "worker.start.failed", code, err }, message);
  // The app's own stack (kept by start-errors.ts) for `holdfast serve --verbose`.
  const detail = isHoldfastError(err) ? err.details?.stack : undefined;
  const stack = typeof detail === "string" ? detail : err instanceof Error ? err.stack : undefined;
  send({ hf: "start-failed", code, message, stack });
  log.flush();
  setTimeout(() => process.exit(78), 50);
}
