/**
 * Per-request events (`request`, and `shed` under overload, when thousands a second are
 * normal). They run once per request, so each JSON line is built by hand from a prefix
 * computed once (pino's own trick in lib/levels.js) and written straight to the log file;
 * with pretty output on a terminal they go through the logger instead.
 * Line shape (the same as pino's): {"level":…,"time":…,"pid":…,"role":"worker","workerId":…,"event":…,…,"msg":…}
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

/** The fields of one `shed` event. */
export interface ShedLogFields {
  reqId: string;
  method: string;
  path: string;
  reason: string;
  retryAfter: number | undefined;
}

/** Loggers for the per-request events. */
export interface RequestEventLog {
  request(f: RequestLogFields): void;
  shed(f: ShedLogFields): void;
}

/** Returns the per-request event writers for a worker. */
export function createRequestLog(log: Logger, base: { role: string; workerId: number }): RequestEventLog {
  const dest = rawDestination(log);
  if (!dest) {
    return {
      request: (f) => log.info({ event: "request", ...f }, "request"),
      shed: (f) => log.warn({ event: "shed", ...f }, "request shed"),
    };
  }
  const infoOn = log.isLevelEnabled("info");
  const warnOn = log.isLevelEnabled("warn");
  const tail = `","pid":${process.pid},"role":${JSON.stringify(base.role)},"workerId":${base.workerId},"event":`;
  return {
    request(f) {
      if (!infoOn) return;
      dest.write(
        `{"level":"info","time":"${new Date().toISOString()}${tail}"request","reqId":${JSON.stringify(f.reqId)},"method":${JSON.stringify(f.method)},"path":${JSON.stringify(f.path)},"status":${f.status},"durationMs":${f.durationMs},"msg":"request"}\n`,
      );
    },
    shed(f) {
      if (!warnOn) return;
      dest.write(
        `{"level":"warn","time":"${new Date().toISOString()}${tail}"shed","reqId":${JSON.stringify(f.reqId)},"reason":${JSON.stringify(f.reason)},"method":${JSON.stringify(f.method)},"path":${JSON.stringify(f.path)},"retryAfter":${f.retryAfter ?? null},"msg":"request shed"}\n`,
      );
    },
  };
}
