/**
 * Wraps the app's request listener with what every request gets: a request id, a
 * deadline and abort signal in AsyncLocalStorage, admission control, a 504 when the
 * deadline passes with no response, a JSON 500 when the app throws (the worker keeps
 * serving), and one `request` log event and metric observation when it finishes.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { Deadline, type RequestContext, runWithContext } from "../context/index.js";
import { HoldfastError, isHoldfastError } from "../errors/index.js";
import type { Logger, WorkerMetrics } from "../telemetry/index.js";
import type { AdmissionController, AdmissionTicket, ShedReason } from "./admission/types.js";

/** One in-flight request, as the watchdog reports it when the worker gets stuck. */
export interface InflightRequest {
  reqId: string;
  method: string;
  path: string;
  /** performance.now() at arrival. */
  start: number;
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
}

/** The handler plus the live numbers the worker reports in its heartbeat. */
export interface RequestHandler {
  listener: RequestListener;
  /** Requests currently being handled, oldest first. */
  inflight: Map<string, InflightRequest>;
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
  const inflight = new Map<string, InflightRequest>();
  const counts = { requests: 0, status: {} as Record<string, number> };
  let draining = false;
  const { log, metrics, admission } = o;

  function runApp(req: IncomingMessage, res: ServerResponse, ctx: Ctx, ticket: AdmissionTicket | undefined, start: number): void {
    let answeredByUs = false;
    let timer: NodeJS.Timeout | undefined;
    if (o.deadlineMs > 0) {
      timer = setTimeout(() => {
        if (res.writableEnded) return;
        const err = new HoldfastError(
          "DEADLINE_EXCEEDED",
          `The request did not finish within its ${o.deadlineMs} ms deadline (timeouts.deadline); holdfast answered for it.`,
        );
        ctx.abort(err);
        metrics.deadlines.inc();
        log.warn(
          { event: "deadline", reqId: ctx.requestId, method: req.method, path: pathOf(req.url), deadlineMs: o.deadlineMs, headersSent: res.headersSent },
          "request deadline passed before the app answered",
        );
        if (!res.headersSent) {
          answeredByUs = true;
          sendError(res, err, ctx.requestId);
          muzzle(res);
        } else {
          // Headers are out: the only honest signal left is to cut the response short.
          res.destroy(err);
        }
      }, o.deadlineMs);
    }

    res.once("close", () => {
      if (timer) clearTimeout(timer);
      inflight.delete(ctx.requestId);
      metrics.active.dec();
      const latencyMs = performance.now() - start;
      const finished = res.writableFinished;
      if (!finished) ctx.abort(new Error("client closed the connection before the response finished"));
      const status = finished ? res.statusCode : 499;
      ticket?.release({ latencyMs, ok: status < 500 });
      counts.requests++;
      const cls = `${Math.floor(status / 100)}xx`;
      counts.status[cls] = (counts.status[cls] ?? 0) + 1;
      metrics.duration.observe({ http_request_method: req.method ?? "GET", http_response_status_code: status }, latencyMs / 1000);
      if (o.logRequests) {
        log.info(
          { event: "request", reqId: ctx.requestId, method: req.method, path: pathOf(req.url), status, durationMs: Math.round(latencyMs * 10) / 10, workerId: o.workerId },
          "request",
        );
      }
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

  function shed(req: IncomingMessage, res: ServerResponse, ctx: Ctx, reason: ShedReason, error: HoldfastError, start: number): void {
    metrics.shed.inc({ reason });
    log.warn({ event: "shed", reqId: ctx.requestId, reason, method: req.method, path: pathOf(req.url), retryAfter: error.retryAfter }, "request shed");
    inflight.delete(ctx.requestId);
    metrics.active.dec();
    counts.requests++;
    counts.status["5xx"] = (counts.status["5xx"] ?? 0) + 1;
    metrics.duration.observe({ http_request_method: req.method ?? "GET", http_response_status_code: 503 }, (performance.now() - start) / 1000);
    if (!res.writableEnded && !res.destroyed) sendError(res, error, ctx.requestId);
  }

  const listener: RequestListener = (req, res) => {
    const start = performance.now();
    const requestId = requestIdFor(req);
    const ctx = new Ctx(requestId, o.deadlineMs > 0 ? new Deadline(start + o.deadlineMs) : Deadline.NONE);
    res.setHeader("x-request-id", requestId);
    if (draining) res.setHeader("connection", "close");
    inflight.set(requestId, { reqId: requestId, method: req.method ?? "GET", path: pathOf(req.url), start });
    metrics.active.inc();

    if (!admission) {
      runApp(req, res, ctx, undefined, start);
      return;
    }
    // Client-gone detection for queued requests: the socket closing before we answer.
    const onClose = () => {
      if (!res.writableEnded) ctx.abort(new Error("client closed the connection"));
    };
    res.once("close", onClose);
    const verdict = admission.admit({ path: pathOf(req.url), deadline: ctx.deadline, signal: ctx.signal });
    const proceed = (v: Awaited<typeof verdict>) => {
      res.off("close", onClose);
      if (v.admitted) runApp(req, res, ctx, v.ticket, start);
      else shed(req, res, ctx, v.reason, v.error, start);
    };
    if (verdict instanceof Promise) verdict.then(proceed, (err) => onAppError(req, res, ctx, err));
    else proceed(verdict);
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
