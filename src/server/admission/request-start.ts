/**
 * X-Request-Start: when the proxy received the request (nginx: `proxy_set_header
 * X-Request-Start "t=${msec}"`; Heroku's router and New Relic use the same header). The time
 * between it and admission is queueing nobody else can see: the proxy, the kernel's socket
 * buffers, a saturated event loop.
 */

/**
 * The request's start on the performance.now() clock, from an X-Request-Start value: `t=` then
 * seconds (`1700000000.123`, nginx's $msec), milliseconds, microseconds or nanoseconds since the
 * epoch. Undefined when absent, unparsable, in the future (beyond 1 s of clock skew) or more than
 * a minute old (a clock that disagrees, not a queue).
 */
export function requestStartFromHeader(value: string | string[] | undefined, nowEpochMs = Date.now(), nowPerf = performance.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const n = Number(v.startsWith("t=") ? v.slice(2) : v);
  if (!Number.isFinite(n) || n <= 0) return undefined;
  const epochMs = n < 1e11 ? n * 1000 : n < 1e14 ? n : n < 1e17 ? n / 1000 : n / 1e6;
  const waited = nowEpochMs - epochMs;
  if (waited < -1000 || waited > 60_000) return undefined;
  return nowPerf - Math.max(0, waited);
}
