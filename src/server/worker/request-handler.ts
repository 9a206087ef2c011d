/**
 * Wraps the app's request listener with what every request gets: a request id, a
 * deadline and abort signal in AsyncLocalStorage, admission control, a 504 when the
 * deadline passes with no response, a JSON 500 when the app throws (the worker keeps
 * serving), and one `request` log event and metric observation when it finishes.
 *
 * Hot path: one object per request ({@link InflightRequest}) serves as the request context,
 * the admission request and the in-flight entry; its response's close handler is shared, not
 * a closure; the deadline is watched by one sweep timer, not a timer per request.
 * bench/serve.ts measures the whole against a plain node:cluster server.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { callWithContext, Deadline, type RequestContext } from "../../context/index.js";
import { errors, HoldfastError, isHoldfastError } from "../../errors/index.js";
import { createRequestLog, type Logger, type WorkerMetrics } from "../../telemetry/index.js";
import { type AdmissionController, type AdmissionRequest, type AdmissionTicket, requestStartFromHeader, type ShedReason } from "../admission/index.js";
import { badRequestTarget } from "./request-target.js";

/** Options of {@link createRequestHandler}. */
export interface RequestHandlerOptions {
  app: RequestListener;
  /** Request deadline in ms (0 = none). */
  deadlineMs: number;
  log: Logger;
  metrics: WorkerMetrics;
  admission?: AdmissionController | undefined;
  /** Which finished requests get a `request` event. */
  logRequests: "all" | "errors" | "off";
  /** Worker number, on every request line. */
  workerId: number;
  /** Called once per request when its response is closed (socket bookkeeping, recycling). */
  onDone?: ((req: IncomingMessage) => void) | undefined;
  /** Read X-Request-Start so time spent before the worker saw the request counts as queueing. */
  requestStart?: boolean | undefined;
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

/** How often a shedding worker may close one of its keep-alive connections (see shed()). */
const SHED_CLOSE_EVERY_MS = 100;
const MAX_REQUEST_ID = 200;
const REQUEST_ID_OK = /^[\w.:/+=@-]+$/;
const idPrefix = `${process.pid.toString(36)}-${Date.now().toString(36)}-`;
let idCounter = 0;

/** A cheap unique request id (pid + time + counter). */
export function newRequestId(): string {
  idCounter = (idCounter + 1) % Number.MAX_SAFE_INTEGER;
  return idPrefix + idCounter.toString(36);
}

/** Request id from X-Request-Id when it is sane, else a new one. */
function requestIdFor(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  if (typeof given === "string" && given.length > 0 && given.length <= MAX_REQUEST_ID && REQUEST_ID_OK.test(given)) return given;
  return newRequestId();
}

function pathOf(url: string | undefined): string {
  if (!url) return "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/**
 * One request in flight: its context (id, deadline, signal), what admission sees of it, and
 * what the watchdog reports when the worker gets stuck. The AbortController and the Deadline
 * are built only when someone asks for them; getters live on the prototype (an object literal
 * with a getter takes V8's slow path on every request).
 */
export class InflightRequest implements RequestContext, AdmissionRequest {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  /** performance.now() at arrival. */
  readonly start: number;
  readonly deadlineMs: number;
  /** Set while the deadline sweep must answer for this request if it runs past its deadline. */
  watched = false;
  req: IncomingMessage | undefined = undefined;
  res: ServerResponse | undefined = undefined;
  ticket: AdmissionTicket | undefined = undefined;
  /** performance.now() time the proxy received the request (from X-Request-Start), when known. */
  receivedAt: number | undefined = undefined;
  #deadline: Deadline | undefined;
  #ac: AbortController | undefined;
  #abortReason: unknown;

  constructor(requestId: string, method: string, path: string, start: number, deadlineMs: number) {
    this.requestId = requestId;
    this.method = method;
    this.path = path;
    this.start = start;
    this.deadlineMs = deadlineMs;
  }

  /**
   * Releases the admission slot early: the request now only waits for another process (a SQLite
   * lock held elsewhere, bounded by db.sqlite.busyTimeout and db.sqlite.lockWaiters). The sample
   * the adaptive limit learns from is the time until now, the work this worker really did.
   */
  parkAdmission(): void {
    const t = this.ticket;
    if (t === undefined) return;
    this.ticket = undefined;
    t.release({ latencyMs: performance.now() - this.start, ok: true });
  }

  /** Same as requestId (the name the watchdog and logs use). */
  get reqId(): string {
    return this.requestId;
  }

  get deadline(): Deadline {
    this.#deadline ??= this.deadlineMs > 0 ? new Deadline(this.start + this.deadlineMs) : Deadline.NONE;
    return this.#deadline;
  }

  get signal(): AbortSignal {
    if (!this.#ac) {
      this.#ac = new AbortController();
      if (this.#abortReason !== undefined) this.#ac.abort(this.#abortReason);
    }
    return this.#ac.signal;
  }

  /** True once the request was aborted (client gone or deadline), without building a signal. */
  get aborted(): boolean {
    return this.#abortReason !== undefined;
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

const kEntry = Symbol("holdfast.request");
type TrackedResponse = ServerResponse & { [kEntry]?: InflightRequest };

/** Builds the per-request wrapper around the app. */
export function createRequestHandler(o: RequestHandlerOptions): RequestHandler {
  const inflight = new Set<InflightRequest>();
  const counts = { requests: 0, status: {} as Record<string, number> };
  let draining = false;
  const { log, metrics, admission } = o;
  const events = createRequestLog(log, { role: "worker", workerId: o.workerId });
  const logRequests = o.logRequests !== "off";
  const logAll = o.logRequests === "all";
  metrics.activeRequests = () => inflight.size;

  // Every request has the same deadline length, so the in-flight Set (insertion-ordered) is
  // also ordered by deadline: one timer watching the oldest entry replaces a timer per request.
  let sweepTimer: NodeJS.Timeout | undefined;
  function armSweep(): void {
    if (sweepTimer || o.deadlineMs <= 0) return;
    for (const r of inflight) {
      if (!r.watched) continue;
      sweepTimer = setTimeout(sweep, Math.max(1, r.start + o.deadlineMs - performance.now()));
      return;
    }
  }
  function sweep(): void {
    sweepTimer = undefined;
    const now = performance.now();
    for (const r of inflight) {
      if (r.start + o.deadlineMs > now) break;
      if (!r.watched) continue;
      r.watched = false;
      onDeadline(r.req as IncomingMessage, r.res as ServerResponse, r);
    }
    armSweep();
  }

  function count(status: number): void {
    counts.requests++;
    const cls = status < 200 ? "1xx" : status < 300 ? "2xx" : status < 400 ? "3xx" : status < 500 ? "4xx" : "5xx";
    counts.status[cls] = (counts.status[cls] ?? 0) + 1;
  }

  /** Shared 'close' listener of every admitted response (`this` is the response). */
  function onClose(this: TrackedResponse): void {
    const entry = this[kEntry] as InflightRequest;
    inflight.delete(entry);
    entry.watched = false;
    const latencyMs = performance.now() - entry.start;
    const finished = this.writableFinished;
    if (!finished) entry.abort(new Error("client closed the connection before the response finished"));
    const status = finished ? this.statusCode : 499;
    entry.ticket?.release({ latencyMs, ok: status < 500 });
    count(status);
    metrics.duration.observe(entry.method, status, latencyMs / 1000);
    if (logRequests && (logAll || status >= 499)) {
      events.request({ reqId: entry.requestId, method: entry.method, path: entry.path, status, durationMs: Math.round(latencyMs * 10) / 10 });
    }
    o.onDone?.(this.req);
  }

  function runApp(req: IncomingMessage, res: TrackedResponse, entry: InflightRequest): void {
    if (o.deadlineMs > 0) {
      entry.req = req;
      entry.res = res;
      entry.watched = true;
      armSweep();
    }
    res[kEntry] = entry;
    res.on("close", onClose);
    try {
      const r = callWithContext(entry, o.app, req, res) as unknown;
      if (r && typeof (r as Promise<unknown>).then === "function") {
        (r as Promise<unknown>).then(undefined, (err: unknown) => onAppError(req, res, entry, err));
      }
    } catch (err) {
      onAppError(req, res, entry, err);
    }
  }

  function onDeadline(req: IncomingMessage, res: ServerResponse, entry: InflightRequest): void {
    if (res.writableEnded) return;
    const err = new HoldfastError("DEADLINE_EXCEEDED", `The request did not finish within its ${o.deadlineMs} ms deadline (timeouts.deadline); holdfast answered for it.`);
    entry.abort(err);
    metrics.deadlines.inc();
    log.warn(
      { event: "deadline", reqId: entry.requestId, method: req.method, path: entry.path, deadlineMs: o.deadlineMs, headersSent: res.headersSent },
      "request deadline passed before the app answered",
    );
    if (!res.headersSent) {
      sendError(res, err, entry.requestId);
      muzzle(res);
    } else {
      // Headers are out: the only honest signal left is to cut the response short.
      res.destroy(err);
    }
  }

  function onAppError(req: IncomingMessage, res: ServerResponse, entry: InflightRequest, err: unknown): void {
    const he = isHoldfastError(err)
      ? err
      : new HoldfastError("INTERNAL", "The application failed while handling this request; see the worker log for the error.", { cause: err });
    metrics.errors.inc({ code: he.code });
    const level = he.code === "INTERNAL" ? "error" : "warn";
    log[level](
      { event: "request.error", reqId: entry.requestId, method: req.method, path: entry.path, code: he.code, err },
      he.code === "INTERNAL" ? "the app threw while handling a request" : he.message,
    );
    if (!res.writableEnded) sendError(res, he, entry.requestId);
  }

  // A proxy's keep-alive pool reuses its most recent connections, which node:cluster handed to
  // whichever worker accepted them: behind nginx one worker can get most of the traffic and shed
  // while another idles. A shedding worker closes a few of its connections (at most one every
  // SHED_CLOSE_EVERY_MS) with its 503s, so the proxy opens new ones, which the supervisor spreads
  // over the workers; the pool rebalances within seconds at the cost of a few reconnects.
  let lastShedClose = Number.NEGATIVE_INFINITY;
  function shed(req: IncomingMessage, res: ServerResponse, entry: InflightRequest, reason: ShedReason, error: HoldfastError): void {
    if (reason !== "client-gone" && entry.start - lastShedClose >= SHED_CLOSE_EVERY_MS) {
      lastShedClose = entry.start;
      res.setHeader("connection", "close");
    }
    metrics.shed.inc({ reason });
    events.shed({ reqId: entry.requestId, reason, method: entry.method, path: entry.path, retryAfter: error.retryAfter });
    inflight.delete(entry);
    count(503);
    metrics.duration.observe(entry.method, 503, (performance.now() - entry.start) / 1000);
    if (!res.writableEnded && !res.destroyed) sendError(res, error, entry.requestId);
    o.onDone?.(req);
  }

  /** A target the app could not parse gets 400 here, before admission and the app. */
  function rejectTarget(req: IncomingMessage, res: ServerResponse, entry: InflightRequest, problem: string): void {
    count(400);
    metrics.duration.observe(entry.method, 400, (performance.now() - entry.start) / 1000);
    if (logAll) events.request({ reqId: entry.requestId, method: entry.method, path: entry.path, status: 400, durationMs: 0 });
    sendError(res, errors.badRequest(problem), entry.requestId);
    o.onDone?.(req);
  }

  const listener: RequestListener = (req, res) => {
    const entry = new InflightRequest(requestIdFor(req), req.method ?? "GET", pathOf(req.url), performance.now(), o.deadlineMs);
    res.setHeader("x-request-id", entry.requestId);
    if (draining) res.setHeader("connection", "close");
    const badTarget = badRequestTarget(req.url, req.method);
    if (badTarget !== undefined) return rejectTarget(req, res, entry, badTarget);
    inflight.add(entry);
    if (!admission) return runApp(req, res, entry);
    if (o.requestStart) {
      const h = req.headers["x-request-start"];
      if (h !== undefined) entry.receivedAt = requestStartFromHeader(h);
    }

    const verdict = admission.admit(entry);
    if (!(verdict instanceof Promise)) {
      if (verdict.admitted) {
        entry.ticket = verdict.ticket;
        runApp(req, res, entry);
      } else shed(req, res, entry, verdict.reason, verdict.error);
      return;
    }
    // Queued: a client that leaves while waiting aborts the signal, and admission drops it unrun.
    const onGone = () => {
      if (!res.writableEnded) entry.abort(new Error("client closed the connection"));
    };
    res.once("close", onGone);
    verdict.then(
      (v) => {
        res.off("close", onGone);
        if (v.admitted) {
          entry.ticket = v.ticket;
          runApp(req, res, entry);
        } else shed(req, res, entry, v.reason, v.error);
      },
      (err: unknown) => {
        res.off("close", onGone);
        inflight.delete(entry);
        onAppError(req, res, entry, err);
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
