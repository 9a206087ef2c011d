/**
 * Timeout inversion, the configuration cause behind "502/504 after N seconds": the app's own wait
 * (SQLite busy timeout, pool acquire timeout) is longer than the proxy's read timeout, so the proxy
 * gives up first (504) and the app logs its lock or pool error later, for nobody. Read from the
 * pairs the lock and pool findings joined: read-timeout failures followed by the app's wait error,
 * usually at a near-constant lag that reveals the app's timeout. Runs after the other rules.
 */
import { claim } from "../correlate.js";
import type { Correlation, Dataset, Finding, Located, MatchPair, ProxyRecord } from "../types.js";
import { requestSpan, spreadOf, wholeSeconds } from "../match.js";
import { detectStack } from "../stack.js";
import { between, failureWindow, ofTotal, samples, statusCounts } from "./evidence.js";
import { lockWaitFix, poolWaitFix, speaksHoldfast, workerTimeoutFix } from "./stack-fixes.js";

/** The findings whose events are waits with their own timeout, and what that wait is called. */
const WAITS: Record<string, { what: string; answer: string }> = {
  "sqlite-lock": { what: "the SQLite lock (busy timeout)", answer: "503" },
  "pool-exhaustion": { what: "a pool connection (acquire timeout)", answer: "503" },
};

function median(v: number[]): number | undefined {
  if (v.length === 0) return undefined;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const sec = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** The app's wait as the events state it (holdfast waitedMs, HikariCP "timed out after 30000ms", SQLAlchemy "timeout 30.00"). */
function statedWait(pairs: MatchPair[]): number | undefined {
  const v: number[] = [];
  for (const p of pairs) {
    const f = p.event.record.fields;
    for (const k of ["waitedMs", "timeoutMs", "acquireTimeoutMs"]) if (typeof f[k] === "number" && Number.isFinite(f[k])) v.push(f[k] as number);
  }
  return median(v);
}

/** The proxy's read timeout: from its config, else what the timed-out requests took. */
function proxyWait(data: Dataset, failures: number[]): number | undefined {
  if (data.timeouts?.proxyReadTimeout !== undefined) return data.timeouts.proxyReadTimeout;
  const took: number[] = [];
  for (const i of failures) {
    const s = requestSpan((data.failures[i] as Located<ProxyRecord>).record);
    if (s.start !== undefined) took.push(s.end - s.start);
  }
  const m = median(took);
  return m !== undefined && m > 0 ? Math.round(m / 100) * 100 : undefined;
}

/** Finds the inversion behind the lock and pool findings; at most one finding, linked to each. */
export function timeoutInversion(data: Dataset, corr: Correlation, findings: Finding[]): Finding[] {
  const parts: { cause: Finding; pairs: MatchPair[] }[] = [];
  for (const f of findings) {
    if (!WAITS[f.id]) continue;
    const all = (corr.pairs.get(f) ?? []).filter((p) => corr.kinds[p.failure] === "read-timeout");
    // Pairs joined by request id, start or the lag pattern measure the inversion; a lifetime join only says "near".
    const strong = all.filter((p) => p.by !== "lifetime");
    const pairs = strong.length >= 2 ? strong : all;
    const byId = pairs.some((p) => p.by === "request-id");
    if (pairs.length >= 2 || (byId && pairs.length >= 1)) parts.push({ cause: f, pairs });
  }
  if (parts.length === 0) return workerInversion(data, corr, findings);
  const main = parts.reduce((a, b) => (b.pairs.length > a.pairs.length ? b : a));
  const failures = [...new Set(parts.flatMap((p) => p.pairs.map((x) => x.failure)))];
  const proxyMs = proxyWait(data, failures);
  const lags = main.pairs.map((p) => p.lagMs);
  const lag = median(lags) ?? 0;
  const spread = lags.length > 1 ? spreadOf(lags) : 0;
  // The app's own request line timed the wait on the app's clock (no skew): best after a stated value.
  const said = statedWait(main.pairs);
  const stated = said ?? median(main.pairs.map((p) => p.event.record.time - (p.event.record.startedAt ?? Number.NaN)).filter((v) => Number.isFinite(v)));
  // Only pairs joined by id, start or lag pattern measure the wait; a lifetime join says the request, not when.
  const measured = main.pairs.every((p) => p.by !== "lifetime");
  const sinceStart = measured ? median(main.pairs.map((p) => p.sinceStartMs).filter((v): v is number => v !== undefined)) : undefined;
  const appMs = stated ?? sinceStart ?? (measured && proxyMs !== undefined ? proxyMs + lag : undefined);
  const wait = WAITS[main.cause.id] as { what: string; answer: string };
  const proxyName =
    data.failures[failures[0] as number]?.record.source === "haproxy"
      ? "HAProxy"
      : data.failures[failures[0] as number]?.record.source === "alb"
        ? "the ALB"
        : "nginx";
  // The order is certain (the proxy timed out, the app's wait error came after); the numbers carry the clocks' skew.
  const appSays =
    appMs !== undefined && (proxyMs === undefined || appMs > proxyMs) ? `≈ ${sec(appMs)}` : `> ${proxyMs !== undefined ? sec(proxyMs) : "the proxy's timeout"}`;
  const proxySays = proxyMs !== undefined ? sec(proxyMs) : "less (its read timeout)";
  const counts = statusCounts(data, failures);
  const w = failureWindow(data, failures);
  const how =
    said !== undefined
      ? "as the app's own lines state"
      : stated !== undefined
        ? "on the app's own clock, from each request's start in its request lines to its error"
        : sinceStart !== undefined
          ? "measured from each request's start to the app's error"
          : appMs !== undefined
            ? "the proxy's timeout plus the lag"
            : "longer than the proxy's timeout (each error belongs to a request the proxy had already answered 504) but by how much these logs cannot tell";
  const when = measured
    ? `each followed by the app's ${main.cause.id} error for the same request ${Math.abs(lag) >= 500 ? `${sec(Math.abs(lag))} ${lag > 0 ? "later" : "earlier"}` : "at about the same time"} (spread ${sec(spread)} over ${main.pairs.length} pair${main.pairs.length === 1 ? "" : "s"})`
    : `while the app logged ${main.cause.evidence.counts.events ?? new Set(main.pairs.map((p) => p.event)).size} ${main.cause.id} errors for the same requests (joined by time and path: with ${wholeSeconds(data) ? "the proxy's times cut to the second and " : ""}no request id, the failures are too close together to tell which error belongs to which, so no steady lag shows the app's timeout)`;
  const summary =
    `${ofTotal(data, counts)} ${between(w)} were read timeouts at the proxy, ${when}. ` +
    `The app waits ${appSays} for ${wait.what}, ${how}; ${proxyName} waits ${proxySays}: every such request ends as a 504 at the proxy before the app can answer ${wait.answer}.`;

  const target = proxyMs !== undefined ? Math.max(500, proxyMs - Math.max(1000, Math.round(proxyMs * 0.2))) : 2000;
  const raise = appMs !== undefined ? Math.ceil(appMs / 1000) + 5 : undefined;
  const stack = detectStack(
    data,
    main.pairs.map((p) => p.event),
  );
  const stackFix = main.cause.id === "sqlite-lock" ? lockWaitFix(stack, target) : poolWaitFix(stack, target);
  const holdfastKey =
    main.cause.id === "sqlite-lock"
      ? `db: { sqlite: { busyTimeout: "${sec(target).replace(" ", "")}" } }`
      : `db: { pool: { acquireTimeout: "${sec(target).replace(" ", "")}" } }`;
  const finding: Finding = {
    id: "timeout-inversion",
    title: `Timeout inversion: the app waits longer for ${wait.what.replace(/ \(.*\)$/, "")} (${appSays}) than ${proxyName} waits for the app (${proxySays})`,
    severity: "error",
    confidence: main.pairs.some((p) => p.by === "request-id") ? 0.9 : measured && main.pairs.length >= 3 && spread <= 3000 ? 0.85 : 0.7,
    explains: failures.length,
    evidence: {
      summary,
      counts: {
        ...counts,
        pairs: main.pairs.length,
        ...(appMs !== undefined ? { appWaitMs: Math.round(appMs) } : {}),
        ...(proxyMs !== undefined ? { proxyReadTimeoutMs: proxyMs } : {}),
        // Only a measured lag: a lifetime join's is to the nearest failure, not the error's own request.
        ...(measured ? { lagMs: Math.round(lag) } : {}),
      },
      window: w,
      samples: samples(
        data,
        failures,
        main.pairs.slice(0, 1).map((p) => p.event),
        2,
      ),
    },
    fix: {
      summary: `Make the app give up first: its wait for ${wait.what} must end below the proxy's read timeout (${sec(target)} against ${proxySays}), so it answers a fast ${wait.answer} the client can retry instead of working on for a request the proxy already answered. Or, only if such requests may really take that long, raise the proxy's read timeout above the app's wait${raise !== undefined ? ` (${raise} s)` : ""}.`,
      holdfast: speaksHoldfast(stack)
        ? `${holdfastKey}\ntimeouts: { deadline: "${sec(Math.max(target + 500, proxyMs !== undefined ? proxyMs - 500 : target + 500)).replace(" ", "")}" }   // waits < deadline < proxy read timeout`
        : undefined,
      stack: stackFix,
      nginx: raise !== undefined ? `proxy_read_timeout ${raise}s;   # only instead of lowering the app's wait` : undefined,
      haproxy: raise !== undefined ? `timeout server ${raise}s   # only instead of lowering the app's wait` : undefined,
    },
    links: parts.map((p) => {
      // Lifetime joins pick the nearest failure in time, not the error's own request: no lag from them.
      const l = p.pairs.filter((x) => x.by !== "lifetime").map((x) => x.lagMs);
      const m = median(l);
      return {
        from: "timeout-inversion",
        to: p.cause.id,
        shared: p.pairs.length,
        lagMs: m !== undefined ? Math.round(m) : undefined,
        lagSpreadMs: l.length > 1 ? Math.round(spreadOf(l)) : undefined,
        evidence:
          m !== undefined
            ? `${p.pairs.length} ${p.cause.id} errors belong to requests the proxy had already timed out (logged ${Math.abs(m) < 500 ? "within 0.5 s of" : `${sec(Math.abs(m))} ${m > 0 ? "after" : "before"}`} its 504): the app's wait outlasted the proxy's.`
            : `${p.pairs.length} requests the proxy had already timed out match the ${p.cause.evidence.counts.events ?? new Set(p.pairs.map((x) => x.event)).size} ${p.cause.id} errors (joined by time and path; the delay is not measured): the app was still waiting when the proxy gave up.`,
      };
    }),
  };
  return [claim(corr, finding, failures)];
}

/** How app servers call the kill of a stuck worker and its timeout option. */
const KILLER: Record<string, { name: string; option: string }> = {
  gunicorn: { name: "gunicorn", option: "--timeout" },
  uwsgi: { name: "uWSGI", option: "harakiri" },
  puma: { name: "Puma", option: "worker_timeout" },
  holdfast: { name: "holdfast's watchdog", option: "timeouts.heartbeat" },
};

/**
 * The stuck-worker form of the inversion: the app server kills a stuck worker only after its own
 * timeout, longer than the proxy's read timeout, so the proxy answers 504 first and the worker
 * stays stuck (and the requests queued behind it time out too) until the kill. The worker timeout
 * is the stated heartbeat age, else the longest a request paired with a kill had been running.
 */
function workerInversion(data: Dataset, corr: Correlation, findings: Finding[]): Finding[] {
  const cause = findings.find((f) => f.id === "worker-killed");
  if (!cause) return [];
  const pairs = (corr.pairs.get(cause) ?? []).filter((p) => corr.kinds[p.failure] === "read-timeout" && p.lagMs > 0);
  if (pairs.length < 2) return [];
  const failures = [...new Set(pairs.map((p) => p.failure))];
  const proxyMs = proxyWait(data, failures);
  const heartbeat = median(pairs.map((p) => p.event.record.fields.heartbeatAgeMs).filter((v): v is number => typeof v === "number"));
  const since = pairs.map((p) => p.sinceStartMs).filter((v): v is number => v !== undefined);
  // Requests queued behind the stuck one started earlier or later than it; the median is the stuck worker's time.
  const appMs = heartbeat ?? (since.length ? median(since) : undefined);
  // Whole-second times on both sides (gunicorn's arbiter, $time_local) leave the measured wait a second wide.
  const coarse = wholeSeconds(data) && pairs.every((p) => p.event.record.time % 1000 === 0);
  if (appMs === undefined || proxyMs === undefined || appMs <= proxyMs + 500) return [];
  const stack = detectStack(
    data,
    pairs.map((p) => p.event),
  );
  const killer = KILLER[stack.server] ?? { name: "the app server", option: "its worker timeout" };
  const lags = pairs.map((p) => p.lagMs);
  const lag = median(lags) ?? 0;
  const counts = statusCounts(data, failures);
  const w = failureWindow(data, failures);
  const proxyName = data.failures[failures[0] as number]?.record.source === "haproxy" ? "HAProxy" : "nginx";
  const target = Math.max(1000, proxyMs - Math.max(1000, Math.round(proxyMs * 0.2)));
  const own = workerTimeoutFix(
    stack,
    Math.max(1, Math.floor(target / 1000)),
    proxyMs / 1000,
    data.timeouts?.proxyIdleTimeout !== undefined ? data.timeouts.proxyIdleTimeout / 1000 : undefined,
  );
  const finding: Finding = {
    id: "timeout-inversion",
    title: `Timeout inversion: ${killer.name} kills a stuck worker only after ≈ ${sec(appMs)}, ${proxyName} gives up after ${sec(proxyMs)}`,
    severity: "error",
    confidence: heartbeat !== undefined ? 0.85 : 0.75,
    explains: failures.length,
    evidence: {
      summary:
        `${ofTotal(data, counts)} ${between(w)} were read timeouts at the proxy ${sec(Math.abs(lag))} before ${killer.name} killed the worker that held them (median; ${pairs.length} pairs). ` +
        `${killer.name} waits ≈ ${sec(appMs)} (${heartbeat !== undefined ? "the heartbeat age it logged" : `median time from a timed-out request's start to the kill${coarse ? "; ± 1 s, as the logs write whole seconds" : ""}`}) before it kills a stuck worker, ${proxyName} waits ${sec(proxyMs)}: the proxy answers 504 while the worker stays stuck, and the requests queued behind it time out too.`,
      counts: { ...counts, pairs: pairs.length, appWaitMs: Math.round(appMs), proxyReadTimeoutMs: proxyMs, lagMs: Math.round(lag) },
      window: w,
      samples: samples(
        data,
        failures,
        pairs.slice(0, 1).map((p) => p.event),
        2,
      ),
    },
    fix: {
      summary: `Let the app server reclaim a stuck worker before the proxy gives up: ${killer.option} below the proxy's read timeout (${sec(target)} against ${sec(proxyMs)}), and take the slow work off the request path so nothing gets stuck.`,
      holdfast:
        stack.server === "holdfast"
          ? `timeouts: { heartbeat: "${sec(target).replace(" ", "")}" }   // below proxy_read_timeout ${sec(proxyMs).replace(" ", "")}`
          : undefined,
      stack: own,
    },
    links: [
      {
        from: "timeout-inversion",
        to: "worker-killed",
        shared: pairs.length,
        lagMs: Math.round(lag),
        lagSpreadMs: lags.length > 1 ? Math.round(spreadOf(lags)) : 0,
        evidence: `${pairs.length} requests timed out at the proxy ${sec(Math.abs(lag))} (median) before ${killer.name} killed their worker: its timeout outlasted the proxy's.`,
      },
    ],
  };
  return [claim(corr, finding, failures)];
}
