/**
 * The one retry policy every finding recommends, so two findings never give opposite
 * `proxy_next_upstream` advice: retry a connection error or a timeout on another server (nginx's
 * default, which never retries a non-idempotent request that was sent), never a 503 the app
 * answered on purpose (a retried 503 doubles the load that caused it), at most twice.
 */

/** nginx lines for the retry policy. */
export const NGINX_NEXT_UPSTREAM =
  "proxy_next_upstream error timeout;   # retry a refused/failed connection or a timeout on another server; never http_503 (a retried 503 doubles the load)\nproxy_next_upstream_tries 2;";

/** HAProxy lines for the same policy. */
export const HAPROXY_RETRY = "retry-on conn-failure empty-response response-timeout   # never 503\nretries 2";
