/**
 * The per-request `request` event. It runs once per request, so the JSON line is built by
 * hand from a prefix computed once (pino's own trick in lib/levels.js) and written straight
 * to the log file; it falls back to the logger when output is pretty-printed.
 * Line shape (same as pino's): {"level":"info","time":…,"pid":…,"role":"worker","workerId":…,"event":"request",…}
 */
import type { Logger } from "./logger.js";
import { rawDestination } from "./logger.js";

/** The fields of one `request` event. */
export interface RequestLogFields {
  reqId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
}

/** Returns a function that logs one `request` event. */
export function createRequestLog(log: Logger, base: { role: string; workerId: number }): (f: RequestLogFields) => void {
  const dest = rawDestination(log);
  if (!dest || !log.isLevelEnabled("info")) {
    return (f) => log.info({ event: "request", ...f }, "request");
  }
  const prefix = `{"level":"info","time":"`;
  const middle = `","pid":${process.pid},"role":${JSON.stringify(base.role)},"workerId":${base.workerId},"event":"request","reqId":`;
  return (f) => {
    dest.write(
      `${prefix}${new Date().toISOString()}${middle}${JSON.stringify(f.reqId)},"method":${JSON.stringify(f.method)},"path":${JSON.stringify(f.path)},"status":${f.status},"durationMs":${f.durationMs},"msg":"request"}\n`,
    );
  };
}
