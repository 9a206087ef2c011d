/**
 * One request in flight as the worker sees it ({@link InflightRequest}): its id (from
 * X-Request-Id when sane, else a cheap new one), method and path, its deadline and abort
 * signal (the request context the app reads through AsyncLocalStorage), and its admission ticket.
 */
import { performance } from "node:perf_hooks";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Deadline, type RequestContext } from "../../context/index.js";
import type { AdmissionRequest, AdmissionTicket } from "../admission/index.js";

const MAX_REQUEST_ID = 200;
const REQUEST_ID_HEADER = "x-request-id";
const REQUEST_ID_OK = /^[\w.:/+=@-]+$/;
const idPrefix = `${process.pid.toString(36)}-${Date.now().toString(36)}-`;
let idCounter = 0;

/** A cheap unique request id (pid + time + counter). */
export function newRequestId(): string {
  idCounter = (idCounter + 1) % Number.MAX_SAFE_INTEGER;
  return idPrefix + idCounter.toString(36);
}

/**
 * Request id from X-Request-Id when it is sane, else a new one. Read from `rawHeaders`: `req.headers`
 * is built on first read, header by header, and an app that never reads it should not pay for it
 * on every request. Two X-Request-Id headers are not one sane id (`req.headers` would join them).
 */
export function requestIdFor(req: IncomingMessage): string {
  const raw = req.rawHeaders;
  let given: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length !== REQUEST_ID_HEADER.length || name.toLowerCase() !== REQUEST_ID_HEADER) continue;
    if (given !== undefined) return newRequestId();
    given = raw[i + 1] as string;
  }
  if (given !== undefined && given.length > 0 && given.length <= MAX_REQUEST_ID && REQUEST_ID_OK.test(given)) return given;
  return newRequestId();
}

/** The path of a request target, without its query. */
export function pathOf(url: string | undefined): string {
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
  /** In the worker's in-flight list (inflight-list.ts), and its neighbours there. */
  listed = false;
  listPrev: InflightRequest | undefined = undefined;
  listNext: InflightRequest | undefined = undefined;
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
