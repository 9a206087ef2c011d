/**
 * Keep-alive race: the app closed an idle keep-alive socket at the moment the proxy reused it.
 * Signature: 502s that fail at once (upstream time ≈ 0) with "upstream prematurely closed" or
 * "connection reset by peer" (HAProxy SH, ALB 502 without a target status), with no worker
 * death nearby. nginx retries idempotent requests on a reused socket, so these are mostly POSTs.
 */
import { claim } from "../correlate.js";
import type { Correlation, Dataset, Finding, Rule } from "../types.js";
import { detectStack } from "../stack.js";
import { keepAliveFix, speaksHoldfast } from "./stack-fixes.js";
import { between, failureWindow, firstErrorLine, ofTotal, samples, statusCounts } from "./evidence.js";
import { NGINX_NEXT_UPSTREAM } from "./proxy-advice.js";

/** Upstream time under which a closed/reset 502 is an instant failure on a reused socket. */
const INSTANT_S = 0.05;
/** Upstream time under which a closed/reset 502 may still be the race, when most of them are instant. */
const SLOW_CLOSE_S = 1;

export const keepaliveRace: Rule = {
  id: "keepalive-race",
  summary: "Upstream closed an idle keep-alive connection that the proxy reused (instant 502s).",
  run(data: Dataset, corr: Correlation): Finding[] {
    const hits: number[] = [];
    const late: number[] = [];
    data.failures.forEach((f, i) => {
      const k = corr.kinds[i];
      if (k !== "upstream-closed" && k !== "upstream-reset") return;
      if (corr.deathClaimed.has(i)) return;
      const t = f.record.upstreamTime;
      if (t !== undefined && t > INSTANT_S) {
        if (t <= SLOW_CLOSE_S) late.push(i);
        return;
      }
      hits.push(i);
    });
    // An app slow to close (a busy event loop, a GIL-holding thread) closes the reused socket a
    // little after nginx wrote on it: when most closes are instant, or the app itself logged closing
    // idle connections at that moment, the ones within a second are the same race.
    const closes = data.appEvents.filter((e) => e.record.event === "conn.idle-close").map((e) => e.record.time);
    const nearClose = (i: number) => {
      const end = data.failures[i]?.record.time ?? Number.NaN;
      // The proxy's and the app's times may both be cut to the second.
      return closes.some((c) => Math.abs(c - end) <= 1500);
    };
    const slowCloses = hits.length >= 3 && hits.length >= late.length ? late.length : late.filter(nearClose).length;
    if (slowCloses) hits.push(...(slowCloses === late.length ? late : late.filter(nearClose)));
    const appCloses = closes.length > 0 && hits.some(nearClose);
    if (hits.length === 0 && !budgetSaysRace(data)) return [];
    const counts = statusCounts(data, hits);
    const w = failureWindow(data, hits);
    const posts = hits.filter((i) => data.failures[i]?.record.method && data.failures[i]?.record.method !== "GET").length;
    const cfg = data.proxyConfig;
    const t = data.timeouts;
    const keepaliveKnownOff = cfg?.kind === "nginx" && cfg.upstreamKeepalive === undefined;
    const budget = budgetSaysRace(data);
    // Without $upstream_response_time an instant failure cannot be told from a worker dying mid-request.
    const timed = hits.filter((i) => data.failures[i]?.record.upstreamTime !== undefined).length;
    let confidence = timed === 0 ? 0.45 : hits.length >= 3 ? 0.75 : 0.5;
    if (budget) confidence = Math.min(0.95, confidence + 0.15);
    if (keepaliveKnownOff) confidence = 0.35;
    const proxyIdle = t?.proxyIdleTimeout ?? 60_000;
    const appKeepAlive = Math.max(proxyIdle + 5000, 65_000);
    const stack = detectStack(data);
    // The upstream the races hit, as the error log names it ("http://127.0.0.1:44319/api/events").
    const upstream = hits
      .map((i) => (corr.errorLine[i] !== undefined && corr.errorLine[i] !== -1 ? data.proxyErrors[corr.errorLine[i] as number]?.record.upstream : undefined))
      .map((u) => /^(?:[a-z]+:\/\/)?([^/\s]+:\d+)/.exec(u ?? "")?.[1])
      .find((a) => a !== undefined);
    return [
      claim(
        corr,
        {
          id: "keepalive-race",
          title: "Keep-alive race: the app closes idle connections the proxy still reuses",
          severity: hits.length > 0 ? "error" : "warning",
          confidence,
          explains: hits.length,
          evidence: {
            summary:
              hits.length > 0
                ? `${ofTotal(data, counts)} ${between(w)} ${timed ? `failed at once (upstream time ≤ ${INSTANT_S * 1000} ms${slowCloses ? `, or within ${SLOW_CLOSE_S} s for ${slowCloses} of them: an app slow to close` : ""})` : "failed (upstream time not logged)"} because the upstream closed or reset the connection, with no worker death nearby${posts ? `; ${posts} ${posts === 1 ? "was" : "were"} non-idempotent (the proxy does not retry those)` : ""}.${appCloses ? ` The app logged closing idle connections (${closes.length} "Request timed out" lines) in the same seconds.` : ""}${budget ? ` The app's keep-alive (${((t?.keepAlive ?? 0) / 1000).toFixed(0)} s) is not above the proxy's idle timeout (${((t?.proxyIdleTimeout ?? 0) / 1000).toFixed(0)} s).` : ""}${keepaliveKnownOff ? " The nginx config shows no upstream keepalive, so a crash of the app is also possible." : ""}`
                : `No instant 502s seen, but the app's keep-alive ${((t?.keepAlive ?? 0) / 1000).toFixed(0)} s is not above the proxy's idle timeout ${((t?.proxyIdleTimeout ?? 0) / 1000).toFixed(0)} s: the race will happen under load.`,
            counts: { ...counts, nonIdempotent: posts },
            window: w,
            samples: samples(data, hits, firstErrorLine(data, corr, hits)),
          },
          fix: {
            summary: `Make the app keep idle connections open longer than the proxy does, so the proxy always closes first (app keep-alive ${appKeepAlive / 1000} s > proxy idle ${proxyIdle / 1000} s).`,
            holdfast: speaksHoldfast(stack) ? `timeouts: { keepAlive: "${appKeepAlive / 1000}s", headers: "${appKeepAlive / 1000 + 1}s" }` : undefined,
            stack: keepAliveFix(stack, appKeepAlive / 1000),
            nginx: `upstream app {\n    server ${upstream ?? "127.0.0.1:3000;   # your app's address"}${upstream ? ";" : ""}\n    keepalive 32;\n    keepalive_timeout ${Math.floor(proxyIdle / 1000)}s;   # must stay below the app's keep-alive (${appKeepAlive / 1000}s)\n}\n${
              posts === hits.length && hits.length > 0
                ? "# no retry setting helps here: nginx retries a request that failed on a reused connection only when it is idempotent,\n# and these were not (POST); only the keep-alive order above prevents them."
                : `# retry an idempotent request that failed on a reused idle connection:\n${NGINX_NEXT_UPSTREAM}`
            }`,
            haproxy: `defaults\n    timeout http-keep-alive ${Math.floor(proxyIdle / 1000)}s   # below the app's keep-alive (${appKeepAlive / 1000}s)\n    http-reuse safe\n    retry-on conn-failure empty-response`,
            alb: `Keep the ALB idle timeout below the app's keep-alive: aws elbv2 modify-load-balancer-attributes --load-balancer-arn <arn> --attributes Key=idle_timeout.timeout_seconds,Value=${Math.floor(proxyIdle / 1000)}`,
          },
        },
        hits,
      ),
    ];
  },
};

function budgetSaysRace(data: Dataset): boolean {
  const t = data.timeouts;
  return t?.keepAlive !== undefined && t.proxyIdleTimeout !== undefined && t.keepAlive <= t.proxyIdleTimeout && data.proxyConfig !== undefined;
}
