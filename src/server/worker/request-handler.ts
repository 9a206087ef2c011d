/**
 * Wraps the app's request listener with what every request gets, in this order: its context
 * (a request id, a deadline and abort signal in AsyncLocalStorage; a 400 for a target the app
 * could not parse), admission control (queued, or shed with 503 + Retry-After), a 504 when the
 * deadline passes with no response, a JSON 500 when the app throws (the worker keeps serving),
 * and at the finish one `request` log event and metric observation.
 *
 * Hot path: one object per request ({@link InflightRequest}) serves as the request context,
 * the admission request and the in-flight entry; its response's close handler is shared, not
 * a closure; the deadline is watched by one sweep timer, not a timer per request; the steps
 * are methods set up once per worker, not closures made per request. bench/serve.ts measures
 * the whole against a plain node:cluster server.
 */
import { performance } from "node:perf_hooks";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { callWithContext } from "../../context/index.js";
import { errors, HoldfastError, isHoldfastError } from "../../errors/index.js";
import { createRequestLog, type Logger, type RequestEventLog, type WorkerMetrics } from "../../telemetry/index.js";
import { type AdmissionController, requestStartFromHeader, type ShedReason } from "../admission/index.js";
import { DeadlineSweep } from "./deadline-sweep.js";
import { muzzle, sendError } from "./error-response.js";
import { InflightList } from "./inflight-list.js";
import { InflightRequest, pathOf, requestIdFor } from "./inflight-request.js";
import { RequestIdResponse } from "./request-id-response.js";
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
  /** Called once per request when its response is closed (socket bookkeeping, recycling), with performance.now() then. */
  onDone?: ((req: IncomingMessage, now: number) => void) | undefined;
  /** Read X-Request-Start so time spent before the worker saw the request counts as queueing. */
  requestStart?: boolean | undefined;
}

/** The handler plus the live numbers the worker reports in its heartbeat. */
export interface RequestHandler {
  listener: RequestListener;
  /** Requests currently being handled, oldest first. */
  inflight: InflightList;
  /** Requests finished since start, and by status class. */
  counts: { requests: number; status: Record<string, number> };
  /** Makes every later response carry `Connection: close` (drain). */
  setDraining(): void;
}

/** How often a shedding worker may close one of its keep-alive connections (see #shed()). */
const SHED_CLOSE_EVERY_MS = 100;

const kEntry = Symbol("holdfast.request");
type TrackedResponse = ServerResponse & { [kEntry]?: InflightRequest };

/** Builds the per-request wrapper around the app. */
export function createRequestHandler(o: RequestHandlerOptions): RequestHandler {
  return new RequestPipeline(o);
}

/** The steps every request goes through; one instance per worker, set up once. */
class RequestPipeline implements RequestHandler {
  readonly inflight = new InflightList();
  readonly counts = { requests: 0, status: {} as Record<string, number> };
  /** The Node request listener: context, then admission, then the app. */
  readonly listener: RequestListener;
  // The options the steps read, copied to fields once (one load per use on the hot path).
  readonly #app: RequestListener;
  readonly #deadlineMs: number;
  readonly #requestStart: boolean;
  readonly #onDone: ((req: IncomingMessage, now: number) => void) | undefined;
  readonly #log: Logger;
  readonly #metrics: WorkerMetrics;
  readonly #admission: AdmissionController | undefined;
  readonly #events: RequestEventLog;
  readonly #logRequests: boolean;
  readonly #logAll: boolean;
  readonly #deadlines: DeadlineSweep;
  /** Shared 'close' listener of every admitted response (`this` is the response). */
  readonly #onClose: (this: TrackedResponse) => void;
  #draining = false;
  // A proxy's keep-alive pool reuses its most recent connections, which node:cluster handed to
  // whichever worker accepted them: behind nginx one worker can get most of the traffic and shed
  // while another idles. A shedding worker closes a few of its connections (at most one every
  // SHED_CLOSE_EVERY_MS) with its 503s, so the proxy opens new ones, which the supervisor spreads
  // over the workers; the pool rebalances within seconds at the cost of a few reconnects.
  #lastShedClose = Number.NEGATIVE_INFINITY;

  constructor(o: RequestHandlerOptions) {
    this.#app = o.app;
    this.#deadlineMs = o.deadlineMs;
    this.#requestStart = o.requestStart === true;
    this.#onDone = o.onDone;
    this.#log = o.log;
    this.#metrics = o.metrics;
    this.#admission = o.admission;
    this.#events = createRequestLog(o.log, { role: "worker", workerId: o.workerId });
    this.#logRequests = o.logRequests !== "off";
    this.#logAll = o.logRequests === "all";
    this.#deadlines = new DeadlineSweep(this.inflight, o.deadlineMs, (entry) => this.#onDeadline(entry));
    o.metrics.activeRequests = () => this.inflight.size;
    const pipeline = this;
    this.#onClose = function (this: TrackedResponse) {
      pipeline.#finish(this);
    };
    this.listener = (req, res) => {
      const entry = this.#openContext(req, res);
      if (entry !== undefined) this.#admit(req, res, entry);
    };
  }

  setDraining(): void {
    this.#draining = true;
  }

  /** Step 1: the request's context and id; a target the app could not parse gets 400 here (undefined). */
  #openContext(req: IncomingMessage, res: ServerResponse): InflightRequest | undefined {
    const entry = new InflightRequest(requestIdFor(req), req.method ?? "GET", pathOf(req.url), performance.now(), this.#deadlineMs);
    // The worker's server writes it with the app's headers; any other server gets it set here.
    if (res instanceof RequestIdResponse) res.requestId = entry.requestId;
    else res.setHeader("x-request-id", entry.requestId);
    if (this.#draining) res.setHeader("connection", "close");
    const badTarget = badRequestTarget(req.url, req.method);
    if (badTarget !== undefined) {
      this.#rejectTarget(req, res, entry, badTarget);
      return undefined;
    }
    this.inflight.add(entry);
    return entry;
  }

  /** Step 2: admission runs the request now, queues it, or sheds it (503). */
  #admit(req: IncomingMessage, res: ServerResponse, entry: InflightRequest): void {
    const admission = this.#admission;
    if (!admission) {
      this.#runApp(req, res, entry);
      return;
    }
    if (this.#requestStart) {
      const h = req.headers["x-request-start"];
      if (h !== undefined) entry.receivedAt = requestStartFromHeader(h);
    }

    const verdict = admission.admit(entry);
    if (!(verdict instanceof Promise)) {
      if (verdict.admitted) {
        entry.ticket = verdict.ticket;
        this.#runApp(req, res, entry);
      } else this.#shed(req, res, entry, verdict.reason, verdict.error);
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
          this.#runApp(req, res, entry);
        } else this.#shed(req, res, entry, v.reason, v.error);
      },
      (err: unknown) => {
        res.off("close", onGone);
        this.inflight.delete(entry);
        this.#onAppError(req, res, entry, err);
        this.#onDone?.(req, performance.now());
      },
    );
  }

  /** Step 3: the deadline sweep answers 504 for this request if it runs past its deadline. */
  #watchDeadline(req: IncomingMessage, res: ServerResponse, entry: InflightRequest): void {
    entry.req = req;
    entry.res = res;
    entry.watched = true;
    this.#deadlines.arm();
  }

  /** Step 4: the app runs in the request's context; a throw or a rejection becomes a JSON error. */
  #runApp(req: IncomingMessage, res: TrackedResponse, entry: InflightRequest): void {
    if (this.#deadlineMs > 0) this.#watchDeadline(req, res, entry);
    res[kEntry] = entry;
    res.on("close", this.#onClose);
    try {
      const r = callWithContext(entry, this.#app, req, res) as unknown;
      if (r && typeof (r as Promise<unknown>).then === "function") {
        (r as Promise<unknown>).then(undefined, (err: unknown) => this.#onAppError(req, res, entry, err));
      }
    } catch (err) {
      this.#onAppError(req, res, entry, err);
    }
  }

  /** Step 5, when the response is closed: release the admission slot, count, observe, log. */
  #finish(res: TrackedResponse): void {
    const entry = res[kEntry] as InflightRequest;
    this.inflight.delete(entry);
    entry.watched = false;
    // One clock read for the latency, the socket's idle time and the log (admission's release makes
    // its own): on a VM a read can cost 50 ns, and a plain server makes none per request.
    const now = performance.now();
    const latencyMs = now - entry.start;
    const finished = res.writableFinished;
    if (!finished) entry.abort(new Error("client closed the connection before the response finished"));
    const status = finished ? res.statusCode : 499;
    entry.ticket?.release({ latencyMs, ok: status < 500 });
    this.#count(status);
    this.#metrics.duration.observe(entry.method, status, latencyMs / 1000);
    if (this.#logRequests && (this.#logAll || status >= 499)) {
      this.#events.request({ reqId: entry.requestId, method: entry.method, path: entry.path, status, durationMs: Math.round(latencyMs * 10) / 10 });
    }
    this.#onDone?.(res.req, now);
  }

  #count(status: number): void {
    const counts = this.counts;
    counts.requests++;
    const cls = status < 200 ? "1xx" : status < 300 ? "2xx" : status < 400 ? "3xx" : status < 500 ? "4xx" : "5xx";
    counts.status[cls] = (counts.status[cls] ?? 0) + 1;
  }

  /** The deadline passed before the app answered: 504, or a cut response when headers are out. */
  #onDeadline(entry: InflightRequest): void {
    const req = entry.req as IncomingMessage;
    const res = entry.res as ServerResponse;
    if (res.writableEnded) return;
    const deadlineMs = this.#deadlineMs;
    const err = new HoldfastError(
      "DEADLINE_EXCEEDED",
      `The request did not finish within its ${deadlineMs} ms deadline (timeouts.deadline); holdfast answered for it.`,
    );
    entry.abort(err);
    this.#metrics.deadlines.inc();
    this.#log.warn(
      { event: "deadline", reqId: entry.requestId, method: req.method, path: entry.path, deadlineMs, headersSent: res.headersSent },
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

  #onAppError(req: IncomingMessage, res: ServerResponse, entry: InflightRequest, err: unknown): void {
    const he = isHoldfastError(err)
      ? err
      : new HoldfastError("INTERNAL", "The application failed while handling this request; see the worker log for the error.", { cause: err });
    this.#metrics.errors.inc({ code: he.code });
    const level = he.code === "INTERNAL" ? "error" : "warn";
    this.#log[level](
      { event: "request.error", reqId: entry.requestId, method: req.method, path: entry.path, code: he.code, err },
      he.code === "INTERNAL" ? "the app threw while handling a request" : he.message,
    );
    if (!res.writableEnded) sendError(res, he, entry.requestId);
  }

  /** Admission said no: 503 + Retry-After, counted and logged as `shed`. */
  #shed(req: IncomingMessage, res: ServerResponse, entry: InflightRequest, reason: ShedReason, error: HoldfastError): void {
    if (reason !== "client-gone" && entry.start - this.#lastShedClose >= SHED_CLOSE_EVERY_MS) {
      this.#lastShedClose = entry.start;
      res.setHeader("connection", "close");
    }
    this.#metrics.shed.inc({ reason });
    this.#events.shed({ reqId: entry.requestId, reason, method: entry.method, path: entry.path, retryAfter: error.retryAfter });
    this.inflight.delete(entry);
    this.#count(503);
    const now = performance.now();
    this.#metrics.duration.observe(entry.method, 503, (now - entry.start) / 1000);
    if (!res.writableEnded && !res.destroyed) sendError(res, error, entry.requestId);
    this.#onDone?.(req, now);
  }

  /** A target the app could not parse gets 400 here, before admission and the app. */
  #rejectTarget(req: IncomingMessage, res: ServerResponse, entry: InflightRequest, problem: string): void {
    this.#count(400);
    const now = performance.now();
    this.#metrics.duration.observe(entry.method, 400, (now - entry.start) / 1000);
    if (this.#logAll) this.#events.request({ reqId: entry.requestId, method: entry.method, path: entry.path, status: 400, durationMs: 0 });
    sendError(res, errors.badRequest(problem), entry.requestId);
    this.#onDone?.(req, now);
  }
}
