/**
 * AWS Application Load Balancer access-log reader (one request per line, space-separated,
 * quoted fields). Fields by position: type time elb client target request_processing_time
 * target_processing_time response_processing_time elb_status_code target_status_code … "request"
 * … "trace_id" … error_reason is field 25 (index 24) in current logs.
 */
import type { ProxyRecord } from "../types.js";
import { type LogReader, neverThrows, parseIsoTime, splitRequest, tokenize } from "./reader.js";

const TYPES = new Set(["http", "https", "h2", "grpcs", "ws", "wss"]);

function secs(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/** Parses one ALB access-log line; null for garbage. */
export function parseAlbLine(line: string): ProxyRecord | null {
  const t = tokenize(line);
  if (t.length < 12 || !TYPES.has(t[0] as string)) return null;
  const time = parseIsoTime(t[1] as string);
  const status = Number(t[8]);
  if (Number.isNaN(time) || !Number.isInteger(status) || status < 100 || status > 599) return null;
  const { method, path } = splitRequest(t[12]);
  const target = t[4] === "-" ? undefined : t[4];
  const targetStatus = t[9] === "-" ? undefined : t[9];
  const errorReason = t[24] && t[24] !== "-" ? t[24] : undefined;
  const rp = secs(t[5]);
  const tp = secs(t[6]);
  const sp = secs(t[7]);
  return {
    source: "alb",
    time,
    status,
    method,
    path: path?.replace(/^https?:\/\/[^/]+/, "") || path,
    upstreamStatus: targetStatus,
    upstreamTime: tp,
    requestTime: rp !== undefined && tp !== undefined && sp !== undefined && rp >= 0 && tp >= 0 && sp >= 0 ? rp + tp + sp : undefined,
    errorReason,
    upstream: target,
    requestId: t[17] && t[17] !== "-" ? t[17] : undefined,
  };
}

/** The ALB access-log reader. */
export const albReader: LogReader<ProxyRecord> = {
  kind: "alb",
  parse: neverThrows(parseAlbLine),
};
