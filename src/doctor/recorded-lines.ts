/**
 * Writers of real-format log lines (nginx access and error, holdfast JSON), for rule tests and the
 * benchmark's generated log. They write exactly what nginx and holdfast write, so the readers see
 * nothing special.
 */
import type { ProxyErrorKind } from "./types.js";

/** nginx log_format with the timings the doctor uses (docs/doctor.md recommends it). */
export const UPSTREAM_TIMING_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct=$upstream_connect_time urt=$upstream_response_time us=$upstream_status rid=$request_id';

const MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const p2 = (n: number) => String(n).padStart(2, "0");

/** nginx $time_local in UTC: "24/Nov/2026:14:02:03 +0000". */
export function timeLocal(t: number): string {
  const d = new Date(t);
  return `${p2(d.getUTCDate())}/${MON[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

/** One access line. */
export interface AccessLine {
  t: number;
  status: number;
  method?: string;
  path?: string;
  /** $request_time, seconds */
  rt?: number;
  /** $upstream_response_time, seconds; null for "-" */
  urt?: number | null;
  /** $upstream_status; default the status */
  us?: string;
  rid?: string;
  ip?: string;
}

/** An access line in {@link UPSTREAM_TIMING_FORMAT} (or combined when `combined`). */
export function nginxAccessLine(a: AccessLine, combined = false): string {
  const head = `${a.ip ?? "10.0.3.17"} - - [${timeLocal(a.t)}] "${a.method ?? "GET"} ${a.path ?? "/api/orders"} HTTP/1.1" ${a.status} ${a.status >= 500 ? 157 : 5123} "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0"`;
  if (combined) return head;
  const urt = a.urt === null ? "-" : (a.urt ?? 0.012).toFixed(3);
  return `${head} rt=${(a.rt ?? 0.013).toFixed(3)} uct=${a.urt === null ? "-" : "0.000"} urt=${urt} us=${a.us ?? (a.urt === null ? "-" : String(a.status))} rid=${a.rid ?? "-"}`;
}

const ERROR_TEXT: Record<Exclude<ProxyErrorKind, "other">, string> = {
  "upstream-closed": "upstream prematurely closed connection while reading response header from upstream",
  "upstream-reset": "recv() failed (104: Connection reset by peer) while reading response header from upstream",
  "connect-refused": "connect() failed (111: Connection refused) while connecting to upstream",
  "connect-timeout": "upstream timed out (110: Connection timed out) while connecting to upstream",
  "connect-eagain": "connect() to unix:/run/app.sock failed (11: Resource temporarily unavailable) while connecting to upstream",
  "read-timeout": "upstream timed out (110: Connection timed out) while reading response header from upstream",
  "no-live-upstreams": "no live upstreams while connecting to upstream",
  "header-too-big": "upstream sent too big header while reading response header from upstream",
  "fd-limit": "accept4() failed (24: Too many open files)",
  "disk-full": 'pwritev() "/var/cache/nginx/proxy_temp/1/00/0000000001" failed (28: No space left on device) while reading upstream',
};

/** An nginx error-log line; its time is written in local time, as nginx does. */
export function nginxErrorLine(t: number, kind: Exclude<ProxyErrorKind, "other">, method = "GET", path = "/api/orders"): string {
  const d = new Date(t);
  const ts = `${d.getFullYear()}/${p2(d.getMonth() + 1)}/${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  return `${ts} [error] 31#31: *${1000 + (t % 9000)} ${ERROR_TEXT[kind]}, client: 10.0.3.17, server: shop.example.com, request: "${method} ${path} HTTP/1.1", upstream: "http://127.0.0.1:3000${path}", host: "shop.example.com"`;
}

/** A holdfast JSON log line. */
export function holdfastLine(t: number, event: string, fields: Record<string, unknown> = {}, level = "warn"): string {
  return JSON.stringify({ level, time: new Date(t).toISOString(), pid: 4100, event, ...fields, msg: event });
}
