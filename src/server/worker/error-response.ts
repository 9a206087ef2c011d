/**
 * The answers holdfast gives itself instead of the app (400, 503, 504, 500): the JSON error
 * body every one of them has, and the guard that drops the app's late writes after a 504.
 */
import type { ServerResponse } from "node:http";
import type { HoldfastError } from "../../errors/index.js";

/** The body of every error answer holdfast gives: `{ "error": { "code", "message", "requestId" } }`. */
export function errorBody(code: string, message: string, requestId: string): string {
  return JSON.stringify({ error: { code, message, requestId } });
}

/** Writes holdfast's JSON error body; used for 503/504/500 answers holdfast gives itself. */
export function sendError(res: ServerResponse, err: HoldfastError, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(err.code, err.message, requestId);
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
export function muzzle(res: ServerResponse): void {
  const noop = function (this: ServerResponse) {
    return this;
  };
  res.writeHead = noop as unknown as ServerResponse["writeHead"];
  res.setHeader = noop as unknown as ServerResponse["setHeader"];
  res.write = (() => true) as unknown as ServerResponse["write"];
  res.end = noop as unknown as ServerResponse["end"];
}
