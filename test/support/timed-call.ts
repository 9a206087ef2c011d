/**
 * One HTTP request timed from send to answer, never rejecting: what the fault tests record for
 * every request they send while they break something (a worker, the database, the disk).
 */
import type { Agent } from "node:http";
import { request as httpRequest } from "node:http";

/** How one request ended. */
export interface TimedAnswer {
  method: string;
  /** Date.now() when it was sent and when it ended. */
  start: number;
  end: number;
  /** HTTP status; 0: the connection failed; -1: no answer within the limit. */
  status: number;
  body: string;
  /** holdfast's error code from a JSON error body (4xx/5xx), when there is one. */
  code?: string | undefined;
  retryAfter?: string | undefined;
}

/** Sends `method path` (JSON `body` if given) to 127.0.0.1:`port` on `agent`; gives up after `limitMs`. */
export function timedCall(port: number, agent: Agent, method: string, path: string, body: string | undefined, limitMs: number): Promise<TimedAnswer> {
  const start = Date.now();
  return new Promise((resolve) => {
    const failed = (status: number, text = "") => resolve({ method, start, end: Date.now(), status, body: text });
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method,
        agent,
        timeout: limitMs,
        headers: body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {},
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
        });
        const retryAfter = res.headers["retry-after"];
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const code = status >= 400 ? /"code"\s*:\s*"([A-Z_]+)"/.exec(text)?.[1] : undefined;
          resolve({ method, start, end: Date.now(), status, body: text, code, retryAfter });
        });
        res.on("error", () => failed(0, text));
      },
    );
    req.on("timeout", () => {
      req.destroy();
      failed(-1);
    });
    req.on("error", () => failed(0));
    req.end(body);
  });
}
