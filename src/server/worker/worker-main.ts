/**
 * Entry point of a worker process (forked by the supervisor through node:cluster).
 * Loads the app, serves it with the configured timeouts, heartbeats to the supervisor,
 * and drains on request: stop accepting, finish in-flight requests, let keep-alive sockets
 * close without racing the client (drain-policy.ts), exit.
 */
import { createServer, type Server } from "node:http";
import { Server as NetServer, type Socket } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createCache } from "../../cache/index.js";
import type { Config } from "../../config/index.js";
import { isHoldfastError } from "../../errors/index.js";
import { createLogger, WorkerMetrics } from "../../telemetry/index.js";
import { createAdmissionController, recordAdmissionTrace, registerAdmissionGauges } from "../admission/index.js";
import { registerCacheGauges } from "./cache-gauges.js";
import { registerDatabaseGauges } from "./database-gauges.js";
import type { AppContext } from "./app-context.js";
import { loadApp } from "./app-loader.js";
import { LazyDatabase } from "./lazy-database.js";
import type { SupervisorMessage, WorkerMessage, WorkerStats } from "../messages.js";
import { idleSocketsBoundMs, leavesIdleSocketsToClient, SHUTDOWN_IDLE_CLOSE_MS } from "../drain-policy.js";
import { createRequestHandler, newRequestId } from "./request-handler.js";
import { exposeInflight, startStallWatchdog } from "./stall-watchdog.js";
import { portInUse } from "../start-errors.js";

const config = JSON.parse(process.env.HOLDFAST_CONFIG ?? "null") as Config | null;
if (!config || !process.send) {
  process.stderr.write("holdfast: worker-main is started by `holdfast serve`, not directly.\n");
  process.exit(2);
}
const workerId = Number(process.env.HOLDFAST_WORKER_ID ?? 0);
const log = await createLogger({ ...config.log, pretty: config.log.pretty, base: { role: "worker", workerId }, explainPrettyFallback: false });
const metrics = new WorkerMetrics({ workerId });
const send = (m: WorkerMessage) => {
  if (process.connected) process.send?.(m);
};

const hbTimeout = config.timeouts.heartbeat;
const stallFile = process.env.HOLDFAST_STALL_FILE;
const watchdog = stallFile && hbTimeout > 0 ? startStallWatchdog({ captureAfterMs: Math.max(200, Math.min(hbTimeout - 800, hbTimeout * 0.8)), file: stallFile }) : undefined;

const db = new LazyDatabase(config, log);
const cache = createCache({
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
registerDatabaseGauges(metrics, () => (db.isOpen ? db.status() : undefined));

let server: Server | undefined;
const sockets = new Map<Socket, { busy: number; idleSince: number }>();

/** How long a refused connection may stay half-closed for its client to read the answer and close. */
const REFUSED_LINGER_MS = 500;

/**
 * Sends a final answer (400/408) and closes the connection for good. The HTTP server is half-open
 * (allowHalfOpen), so end() alone only sends FIN: a client that keeps its side open and keeps
 * writing — a slowloris client does — would hold the socket and its descriptor forever.
 */
function answerAndClose(socket: Socket, answer: string): void {
  socket.end(answer);
  const timer = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

async function start(): Promise<void> {
  const ctx: AppContext = { db, cache, log, config: config as Config };
  const app = await loadApp(config?.app as string, async () => ctx);
  const c = config as Config;
  const jitter = c.recycle.maxRequestsJitter > 0 ? Math.floor(Math.random() * (c.recycle.maxRequestsJitter + 1)) : 0;
  const recycleAt = c.recycle.maxRequests > 0 ? c.recycle.maxRequests + jitter : 0;
  let recycleAsked = false;
  const handler = createRequestHandler({
    app,
    deadlineMs: c.timeouts.deadline,
    log,
    metrics,
    admission,
    logRequests: c.log.requests,
    workerId,
    requestStart: c.admission.requestStart,
    onDone(req) {
      const st = sockets.get(req.socket);
      if (st) {
        st.busy--;
        st.idleSince = performance.now();
      }
      if (recycleAt > 0 && !recycleAsked && handler.counts.requests >= recycleAt) {
        recycleAsked = true;
        send({ hf: "recycle", reason: "maxRequests", requests: handler.counts.requests });
      }
    },
  });
  /** The oldest in-flight requests, as the watchdog and /status report them. */
  const inflightSnapshot = (limit = Number.POSITIVE_INFINITY) => {
    const now = performance.now();
    const out: WorkerStats["oldest"] = [];
    for (const r of handler.inflight) {
      if (out.length >= limit) break;
      out.push({ reqId: r.reqId, method: r.method, path: r.path, ageMs: Math.round(now - r.start) });
    }
    return out;
  };
  exposeInflight(inflightSnapshot);
  server = createServer(
    {
      keepAliveTimeout: c.timeouts.keepAlive,
      headersTimeout: c.timeouts.headers,
      requestTimeout: c.timeouts.request,
      // Node checks header/request timeouts on this period (default 30 s), so a timeout fires up to
      // one period late; a tenth of timeouts.headers, at most 1 s, keeps it close (one cheap sweep).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(c.timeouts.headers / 10))),
    },
    handler.listener,
  );
  server.on("connection", (socket: Socket) => {
    sockets.set(socket, { busy: 0, idleSince: performance.now() });
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("request", (req) => {
    const s = sockets.get(req.socket);
    if (s) s.busy++;
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    // Malformed requests get a 400 instead of a silent reset; timeouts get 408.
    if (!socket.writable) return socket.destroy();
    if (err.code === "ERR_HTTP_REQUEST_TIMEOUT" || err.code === "ERR_HTTP_HEADERS_TIMEOUT") {
      return answerAndClose(socket, "HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    }
    // The JSON error body every holdfast answer has; the parser's own reason (err.code) says what was malformed.
    const body = JSON.stringify({
      error: { code: "BAD_REQUEST", message: `The request is not valid HTTP/1.1 (${err.code ?? "parse error"}); it never reached the app.`, requestId: newRequestId() },
    });
    answerAndClose(socket, `HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });

  // Told to stop while loading the app: exiting is already under way, so never start listening
  // (connections accepted now would be cut when the process exits a moment later).
  if (stopAsked) return;
  await new Promise<void>((resolve, reject) => {
    server?.once("error", (err: NodeJS.ErrnoException) => reject(err.code === "EADDRINUSE" ? portInUse("app", c.host, c.port, err) : err));
    server?.listen({ host: c.host, port: c.port, backlog: c.backlog }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : c.port;

  // Heartbeat: proves the event loop turns, and carries the numbers /status shows.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const every = Math.max(100, Math.min(1000, Math.floor(hbTimeout / 10) || 1000));
  const heartbeat = async (): Promise<WorkerMessage> => {
    const mem = process.memoryUsage();
    const oldest = inflightSnapshot(20);
    const stats: WorkerStats = {
      requests: handler.counts.requests,
      inflight: handler.inflight.size,
      status: handler.counts.status,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      // The histogram measures whole timer periods; what is above the 10 ms resolution is lag.
      eventLoopLagMs: Math.max(0, Math.round((lag.percentile(99) / 1e6 - 10) * 10) / 10),
      oldest,
      db: db.isOpen ? db.status() : undefined,
      cache: cache.status(),
      admission: admission?.status(),
    };
    lag.reset();
    return { hf: "heartbeat", stats, metrics: await metrics.snapshot() };
  };
  const beat = setInterval(async () => send(await heartbeat()), every);
  const tick = watchdog ? setInterval(() => watchdog.tick(), 100) : undefined;
  tick?.unref();

  // Set when a drain starts; a shutdown that arrives during a reload's drain shortens it (see drainImpl).
  let drainPlan: { leaveIdle: boolean; socketsUntil: number } | undefined;
  drainImpl = async (reason) => {
    const drainStart = performance.now();
    if (drainPlan) {
      // The instance is stopping now: nothing will replace this worker, so its idle sockets need not wait.
      if (drainPlan.leaveIdle && !leavesIdleSocketsToClient(reason)) {
        drainPlan.leaveIdle = false;
        drainPlan.socketsUntil = Math.min(drainPlan.socketsUntil, drainStart + idleSocketsBoundMs(c, reason));
      }
      return;
    }
    handler.setDraining();
    const plan = { leaveIdle: leavesIdleSocketsToClient(reason), socketsUntil: drainStart + idleSocketsBoundMs(c, reason) };
    drainPlan = plan;
    log.info({ event: "worker.drain", reason, inflight: handler.inflight.size, sockets: sockets.size, leaveIdle: plan.leaveIdle }, `worker draining (${reason})`);
    // Stop accepting without http.Server#close(), which also drops idle keep-alive sockets at
    // once (closeIdleConnections): a client may be writing a request on one of them right now.
    NetServer.prototype.close.call(server);
    const graceUntil = drainStart + c.timeouts.graceful;
    let quietSent = false;
    await new Promise<void>((resolve) => {
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
          // Nothing in flight: a rolling reload may move on while the idle sockets wait for their client.
          quietSent = true;
          send({ hf: "drained", idleSockets: sockets.size });
        }
        if ((quiet && sockets.size === 0) || (!quiet && now >= graceUntil) || now >= plan.socketsUntil) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    const left = handler.inflight.size;
    if (left > 0) log.warn({ event: "worker.drain.timeout", inflight: left, gracefulMs: c.timeouts.graceful }, "graceful timeout passed with requests still in flight; closing them");
    for (const socket of sockets.keys()) socket.destroy();
    clearInterval(beat);
    // A last report, so the supervisor keeps this worker's final counts (cluster counters never go back).
    const last = await heartbeat();
    if (process.connected) await new Promise<void>((resolve) => process.send?.(last, undefined, undefined, () => resolve()));
    admission?.close();
    await db.close().catch((err: unknown) => log.warn({ event: "db.close.failed", err }, "closing the database failed"));
    await cache.close().catch((err: unknown) => log.warn({ event: "cache.close.failed", err }, "closing the cache failed"));
    await watchdog?.stop();
    log.flush();
    setTimeout(() => process.exit(exitCode), 50);
  };

  admission?.ready();
  send({ hf: "ready", port });
  log.info({ event: "worker.start", workerId, port }, `worker ${workerId} listening`);
}

let exitCode = 0;
/** Set when the supervisor asked this worker to stop before it was serving. */
let stopAsked = false;
let drainImpl: ((reason: SupervisorMessage["reason"]) => Promise<void>) | undefined;

process.on("message", (m: unknown) => {
  const msg = m as Partial<SupervisorMessage> | null;
  if (msg?.hf === "drain" && msg.reason) drainNow(msg.reason);
});
// SIGTERM/SIGINT reach workers too when the whole process group is signalled (Ctrl-C);
// the supervisor coordinates shutdown, so the worker only drains.
process.on("SIGTERM", () => drainNow("shutdown"));
process.on("SIGINT", () => drainNow("shutdown"));

/** Drains a serving worker; one asked to stop before it serves has nothing in flight and just exits. */
function drainNow(reason: SupervisorMessage["reason"]): void {
  if (drainImpl) void drainImpl(reason);
  else {
    if (stopAsked) return;
    stopAsked = true;
    log.info({ event: "worker.drain", reason, inflight: 0 }, "asked to stop before serving; exiting");
    log.flush();
    setTimeout(() => process.exit(0), 20);
  }
}

process.on("uncaughtException", (err) => {
  // Thrown while exiting (an exit hook failed): process.exit is under way, and a second call
  // skips the hooks and ends the process instead of leaving it alive half-stopped.
  if (stopAsked) process.exit(exitCode);
  log.fatal({ event: "worker.uncaught", err }, "uncaught exception: finishing in-flight requests, then this worker is replaced");
  exitCode = 1;
  if (!drainImpl) {
    log.flush();
    process.exit(1);
  }
  send({ hf: "fatal", message: err instanceof Error ? err.message : String(err) });
  void drainImpl("fatal");
});

start().catch((err: unknown) => {
  const code = isHoldfastError(err) ? err.code : "APP_LOAD_FAILED";
  const message = err instanceof Error ? err.message : String(err);
  log.fatal({ event: "worker.start.failed", code, err }, message);
  // The app's own stack (kept by start-errors.ts) for `holdfast serve --verbose`.
  const detail = isHoldfastError(err) ? err.details?.stack : undefined;
  const stack = typeof detail === "string" ? detail : err instanceof Error ? err.stack : undefined;
  send({ hf: "start-failed", code, message, stack });
  log.flush();
  setTimeout(() => process.exit(78), 50);
});
