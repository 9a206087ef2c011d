/**
 * nginx error-log reader: "2026/11/24 14:02:03 [error] 12#12: *5 <message>, client: …, upstream: "…"".
 * The message is classified into the few kinds that explain 502/504s. nginx writes this time in
 * the server's local zone; it is read in the doctor's local zone (set TZ to match the server).
 */
import type { ProxyErrorKind, ProxyErrorRecord } from "../types.js";
import { type LogReader, neverThrows } from "./reader.js";

const HEAD = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d) \[([a-z]+)\] \d+#\d+: (?:\*\d+ )?/;

/** Ordered: the first match wins. */
const KINDS: [RegExp, ProxyErrorKind][] = [
  [/upstream sent too big header/, "header-too-big"],
  [/no live upstreams/, "no-live-upstreams"],
  [/\(24: |worker_connections are not enough/, "fd-limit"],
  [/\(28: /, "disk-full"],
  [/upstream timed out \(110: [^)]*\) while connecting/, "connect-timeout"],
  [/upstream timed out/, "read-timeout"],
  [/\(111: [^)]*\) while connecting/, "connect-refused"],
  [/\(11: [^)]*\) while connecting/, "connect-eagain"],
  [/upstream prematurely closed/, "upstream-closed"],
  [/\((104|32): [^)]*\)/, "upstream-reset"],
];

function quoted(line: string, key: string): string | undefined {
  const i = line.indexOf(`${key}: "`);
  if (i < 0) return undefined;
  const s = i + key.length + 3;
  const e = line.indexOf('"', s);
  return e < 0 ? undefined : line.slice(s, e);
}

/** Parses one nginx error-log line; null for anything without the error-log head. */
export function parseNginxErrorLine(line: string): ProxyErrorRecord | null {
  const m = HEAD.exec(line);
  if (!m) return null;
  const time = new Date(+(m[1] as string), +(m[2] as string) - 1, +(m[3] as string), +(m[4] as string), +(m[5] as string), +(m[6] as string)).getTime();
  if (!Number.isFinite(time)) return null;
  const rest = line.slice(m[0].length);
  const commaClient = rest.indexOf(", client: ");
  const message = commaClient < 0 ? rest : rest.slice(0, commaClient);
  let kind: ProxyErrorKind = "other";
  for (const [re, k] of KINDS) {
    if (re.test(message)) {
      kind = k;
      break;
    }
  }
  const phase = /while ([a-z ]+?)(?: from upstream| to upstream)?$/.exec(message)?.[1];
  return { source: "nginx-error", time, level: m[7] as string, kind, phase, upstream: quoted(rest, "upstream"), request: quoted(rest, "request"), message };
}

/** The nginx error-log reader. */
export const nginxErrorReader: LogReader<ProxyErrorRecord> = {
  kind: "nginx-error",
  parse: neverThrows(parseNginxErrorLine),
};
