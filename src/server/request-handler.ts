/**
 * Wraps the app's request listener with what every request gets: a request id, a
 * deadline and abort signal in AsyncLocalStorage, admission control, a 504 when the
 * deadline passes with no response, a JSON 500 when the app throws (the worker keeps
 * serving), and one `request` log event and metric observation when it finishes.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { Deadline, type RequestContext, runWithContext } from "../context/index.js";
import { HoldfastError, isHoldfastError } from "../errors/index.js";
import { createRequestLog, type Logger, type WorkerMetrics } from "../telemetry/index.js";
import type { AdmissionController, AdmissionRequest, AdmissionTicket, ShedReason } from "./admission/types.js";

/** One in-flight request, as the watchdog reports it when the worker gets stuck. */
export interface InflightRequest {
  reqId: string;
  method: string;
  path: string;
  /** performance.now() at arrival. */
  start: number;
  /** Called by the deadline sweep when the request is past its deadline. */
  onDeadline: (() => void) | undefined;
}

/** Options of {@link createRequestHandler}. */
export interface RequestHandlerOptions {
  app: RequestListener;
  /** Request deadline in ms (0 = none). */
  deadlineMs: number;
  log: Logger;
  metrics: WorkerMetrics;
  admission?: AdmissionController | undefined;
  /** Log one `request` event per finished request. */
  logRequests: boolean;
  /** Worker number, on every request line. */
  workerId: number;
  /** Called once per request when its response is closed (socket bookkeeping, recycling). */
  onDone?: ((req: IncomingMessage) => void) | undefined;
}

/** The handler plus the live numbers the worker reports in its heartbeat. */
export interface RequestHandler {
  listener: RequestListener;
  /** Requests currently being handled, oldest first. */
  inflight: Set<InflightRequest>;
  /** Requests finished since start, and by status class. */
  counts: { requests: number; status: Record<string, number> };
  /** Makes every later response carry `Connection: close` (drain). */
  setDraining(): void;
}

const MAX_REQUEST_ID = 200;
const REQUEST_ID_OK = /^[\w.:/+=@-]+$/;
const idPrefix = `${process.pid.toString(36)}-${Date.now().toString(36)}-`;
let idCounter = 0;

/** Request id from X-Request-Id when it is sane, else a cheap unique one (pid + time + counter). */
function requestIdFor(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  if (typeof given === "string" && given.length > 0 && given.length <= MAX_REQUEST_ID && REQUEST_ID_OK.test(given)) return given;
  idCounter = (idCounter + 1) % Number.MAX_SAFE_INTEGER;
  return idPrefix + idCounter.toString(36);
}

function pathOf(url: string | undefined): string {
  if (!url) return "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/** Context object; the AbortController is created only when someone asks for the signal. */
class Ctx implements RequestContext {
  readonly requestId: string;
  readonly deadline: Deadline;
  #ac: AbortController | undefined;
  #abortReason: unknown;

  constructor(requestId: string, deadline: Deadline) {
    this.requestId = requestId;
    this.deadline = deadline;
  }

  get signal(): AbortSignal {
    if (!this.#ac) {
      this.#ac = new AbortController();
      if (this.#abortReason !== undefined) this.#ac.abort(this.#abortReason);
    }
    return this.#ac.signal;
  }

  abort(reason: unknown): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#ac?.abort(reason);
  }
}

/**
 * What admission sees of a request. The signal is read only by requests that get queued,
 * so its AbortController is built lazily; a class keeps the getter on the prototype (an
 * object literal with a getter takes V8's slow path on every request).
 */
class AdmissionReq implements AdmissionRequest {
  readonly path: string;
  readonly #ctx: Ctx;
  constructor(path: string, ctx: Ctx) {
    this.path = path;
    this.#ctx = ctx;
  }
  get deadline(): Deadline {
    return this.#ctx.deadline;
  }
  get signal(): AbortSignal {
    return this.#ctx.signal;
  }
}

/** Writes holdfast's JSON error body; used for 503/504/500 answers holdfast gives itself. */
export function sendError(res: ServerResponse, err: HoldfastError, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code: err.code, message: err.message, requestId } });
  const headers: Record<string, string | number> = {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  };
  if (err.retryAfter !== undefined) headers["retry-after"] = Math.max(1, Math.ceil(err.retryAfter));
  res.writeHead(err.httpStatus, headers);
  res.end(body);
}

/** After holdfast answered for the app (504), later writes by the app are dropped instead of throwing. */
function muzzle(res: ServerResponse): void {
  const noop = function (this: ServerResponse) {
    return this;
  };
  res.writeHead = noop as unknown as ServerResponse["writeHead"];
  res.setHeader = noop as unknown as ServerResponse["setHeader"];
  res.write = (() => true) as unknown as ServerResponse["write"];
  res.end = noop as unknown as ServerResponse["end"];
}

/** Builds the per-request wrapper around the app. */
export function createRequestHandler(o: RequestHandlerOptions): RequestHandler {
  // A Set of entry objects: identity hashing is cheaper than hashing a fresh id string per request.
  const inflight = new Set<InflightRequest>();
  const counts = { requests: 0, status: {} as Record<string, number> };
  let draining = false;
  const { log, metrics, admission } = o;

  const logRequest = o.logRequests ? createRequestLog(log, { role: "worker", workerId: o.workerId }) : undefined;
  metrics.activeRequests = () => inflight.size;

  // Every request has the same deadline length, so the in-flight Map (insertion-ordered) is
  // also ordered by deadline: one timer watching the oldest entry replaces a timer per request.
  let sweepTimer: NodeJS.Timeout | undefined;
  function armSweep(): void {
    if (sweepTimer || o.deadlineMs <= 0) return;
    const first = inflight.values().next();
    if (first.done) return;
    const wait = Math.max(1, first.value.start + o.deadlineMs - performance.now());
    sweepTimer = setTimeout(sweep, wait);
  }
  function sweep(): void {
    sweepTimer = undefined;
    const now = performance.now();
    for (const r of inflight.values()) {
      if (r.start + o.deadlineMs > now) break;
      const fire = r.onDeadline;
      r.onDeadline = undefined;
      fire?.();
    }
    // Entries answered by the sweep stay in the map until their response closes; skip them.
    for (const r of inflight.values()) {
      if (r.onDeadline) {
        sweepTimer = setTimeout(sweep, Math.max(1, r.start + o.deadlineMs - performance.now()));
        break;
      }
    }
  }

  function runApp(req: IncomingMessage, res: ServerResponse, ctx: Ctx, entry: InflightRequest, ticket: AdmissionTicket | undefined, start: number): void {
    if (o.deadlineMs > 0) {
      entry.onDeadline = () => {
        if (res.writableEnded) return;
        const err = new HoldfastError(
          "DEADLINE_EXCEEDED",
          `The request did not finish within its ${o.deadlineMs} ms deadline (timeouts.deadline); holdfast answered for it.`,
        );
        ctx.abort(err);
        metrics.deadlines.inc();
        log.warn(
          { event: "deadline", reqId: ctx.requestId, method: req.method, path: entry.path, deadlineMs: o.deadlineMs, headersSent: res.headersSent },
          "request deadline passed before the app answered",
        );
        if (!res.headersSent) {
          sendError(res, err, ctx.requestId);
          muzzle(res);
        } else {
          // Headers are out: the only honest signal left is to cut the response short.
          res.destroy(err);
        }
      };
      armSweep();
    }

    res.on("close", () => {
      inflight.delete(entry);
      const latencyMs = performance.now() - start;
      const finished = res.writableFinished;
      if (!finished) ctx.abort(new Error("client closed the connection before the response finished"));
      const status = finished ? res.statusCode : 499;
      ticket?.release({ latencyMs, ok: status < 500 });
      count(status);
      metrics.duration.observe(req.method ?? "GET", status, latencyMs / 1000);
      logRequest?.({ reqId: ctx.requestId, method: req.method ?? "GET", path: entry.path, status, durationMs: Math.round(latencyMs * 10) / 10 });
      o.onDone?.(req);
    });

    try {
      const r = runWithContext(ctx, () => o.app(req, res)) as unknown;
      if (r && typeof (r as Promise<unknown>).then === "function") {
        (r as Promise<unknown>).then(undefined, (err: unknown) => onAppError(req, res, ctx, err));
      }
    } catch (err) {
      onAppError(req, res, ctx, err);
    }
  }

  function count(status: number): void {
    counts.requests++;
    const cls = status < 200 ? "1xx" : status < 300 ? "2xx" : status < 400 ? "3xx" : status < 500 ? "4xx" : "5xx";
    counts.status[cls] = (counts.status[cls] ?? 0) + 1;
  }

  function onAppError(req: IncomingMessage, res: ServerResponse, ctx: Ctx, err: unknown): void {
    const he = isHoldfastError(err)
      ? err
      : new HoldfastError("INTERNAL", "The application failed while handling this request; see the worker log for the error.", { cause: err });
    metrics.errors.inc({ code: he.code });
    const level = he.httpStatus >= 500 && he.code === "INTERNAL" ? "error" : "warn";
    log[level](
      { event: "request.error", reqId: ctx.requestId, method: req.method, path: pathOf(req.url), code: he.code, err },
      he.code === "INTERNAL" ? "the app threw while handling a request" : he.message,
    );
    if (!res.writableEnded) sendError(res, he, ctx.requestId);
  }

  function shed(req: IncomingMessage, res: ServerResponse, ctx: Ctx, entry: InflightRequest, reason: ShedReason, error: HoldfastError, start: number): void {
    metrics.shed.inc({ reason });
    log.warn({ event: "shed", reqId: ctx.requestId, reason, method: req.method, path: entry.path, retryAfter: error.retryAfter }, "request shed");
    inflight.delete(entry);
    count(503);
    metrics.duration.observe(req.method ?? "GET", 503, (performance.now() - start) / 1000);
    if (!res.writableEnded && !res.destroyed) sendError(res, error, ctx.requestId);
    o.onDone?.(req);
  }

  const listener: RequestListener = (req, res) => {
    const start = performance.now();
    const requestId = requestIdFor(req);
    const ctx = new Ctx(requestId, o.deadlineMs > 0 ? new Deadline(start + o.deadlineMs) : Deadline.NONE);
    res.setHeader("x-request-id", requestId);
    if (draining) res.setHeader("connection", "close");
    const entry: InflightRequest = { reqId: requestId, method: req.method ?? "GET", path: pathOf(req.url), start, onDeadline: undefined };
    inflight.add(entry);

    if (!admission) {
      runApp(req, res, ctx, entry, undefined, start);
      return;
    }
    const verdict = admission.admit(new AdmissionReq(entry.path, ctx));
    if (!(verdict instanceof Promise)) {
      if (verdict.admitted) runApp(req, res, ctx, entry, verdict.ticket, start);
      else shed(req, res, ctx, entry, verdict.reason, verdict.error, start);
      return;
    }
    // Queued: a client that leaves while waiting aborts the signal, and admission drops it unrun.
    const onClose = () => {
      if (!res.writableEnded) ctx.abort(new Error("client closed the connection"));
    };
    res.once("close", onClose);
    verdict.then(
      (v) => {
        res.off("close", onClose);
        if (v.admitted) runApp(req, res, ctx, entry, v.ticket, start);
        else shed(req, res, ctx, entry, v.reason, v.error, start);
      },
      (err: unknown) => {
        res.off("close", onClose);
        inflight.delete(entry);
        onAppError(req, res, ctx, err);
        o.onDone?.(req);
      },
    );
  };

  return {
    listener,
    inflight,
    counts,
    setDraining() {
      draining = true;
    },
  };
}
