/**
 * HAProxy HTTP log reader (option httplog), with or without the syslog prefix:
 * `… haproxy[12]: 127.0.0.1:5678 [24/Nov/2026:14:02:03.123] fe be/srv 0/0/1/-1/1002 502 209 - - SH-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"`.
 * Timers are TR/Tw/Tc/Tr/Ta (HAProxy ≥ 1.9) or Tq/Tw/Tc/Tr/Tt; -1 means that phase never happened.
 */
import type { ProxyRecord } from "../types.js";
import { type LogReader, neverThrows, parseClfTime, splitRequest } from "./reader.js";

const LINE =
  /(?:^|\s)(\S+):\d+ \[(\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d(?:\.\d+)?)\] (\S+) (\S+) (-?\d+)\/(-?\d+)\/(-?\d+)\/(-?\d+)\/\+?(-?\d+) (-?\d+) \+?(-?\d+) \S+ \S+ ([-A-Za-z]{4}) (\S+) (\S+)(?: \{([^}]*)\})?(?: \{([^}]*)\})? "([^"]*)"?/;

function requestIdFrom(captured: string | undefined): string | undefined {
  const first = captured?.split("|")[0];
  return first && /^[\w.:-]{8,128}$/.test(first) ? first : undefined;
}

/** Parses one HAProxy HTTP log line; null for TCP-mode lines, alerts and garbage. */
export function parseHaproxyLine(line: string): ProxyRecord | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const time = parseClfTime(m[2] as string);
  const status = Number(m[10]);
  if (Number.isNaN(time) || !Number.isInteger(status)) return null;
  const tc = Number(m[7]);
  const tr = Number(m[8]);
  const ta = Number(m[9]);
  const { method, path } = splitRequest(m[17]);
  // The status is -1 when HAProxy never produced a response (client aborted before); keep it as 0.
  return {
    source: "haproxy",
    time,
    status: Math.max(0, status),
    method,
    path,
    connectTime: tc < 0 ? -1 : tc / 1000,
    upstreamTime: tr < 0 ? -1 : tr / 1000,
    requestTime: ta < 0 ? undefined : ta / 1000,
    termState: m[12],
    upstream: m[4],
    // `capture request header X-Request-Id len 64` logs the id as the first {captured} field.
    requestId: requestIdFrom(m[15]),
  };
}

/** The HAProxy HTTP log reader. */
export const haproxyReader: LogReader<ProxyRecord> = {
  kind: "haproxy",
  parse: neverThrows(parseHaproxyLine),
};
