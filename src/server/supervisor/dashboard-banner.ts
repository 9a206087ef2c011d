/**
 * The dashboard's state banner: one colour and the reasons for it, in words for the person on
 * call. Red for what is hurting requests now or just did (a watchdog kill, a crash loop, load
 * being shed, a firing alert), amber for what needs a look, green otherwise. Pure: the feed
 * passes in what it saw.
 */
import type { Alert, InstanceStatus } from "../../monitor/index.js";
import type { SupervisorEvent } from "./supervisor-state.js";

/** The banner's colour and words. */
export interface Banner {
  level: "loading" | "ok" | "warn" | "bad";
  title: string;
  reasons: string[];
}

/** What the banner is judged on. */
export interface BannerInput {
  now: number;
  phase: string;
  ready: boolean;
  workers: InstanceStatus["workers"];
  events: readonly SupervisorEvent[];
  /** Alerts firing (or resolving) right now. */
  firing: readonly Alert[];
  /** The last few samples, oldest first (only `shed` is read). */
  recent: readonly { shed: number }[];
}

/** How long a watchdog kill or a crash keeps the banner coloured. */
export const RECENT_MS = 5 * 60_000;

function ago(now: number, iso: string): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 90 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

function describeKill(now: number, e: SupervisorEvent): string {
  const inflight = Array.isArray(e.inflight) ? (e.inflight as { method?: string; path?: string }[]) : [];
  // Oldest first; the one that blocked the loop is among them, not necessarily the first.
  const shown = inflight.slice(0, 3).map((r) => `${r.method ?? "?"} ${r.path ?? ""}`);
  const during = shown.length
    ? ` with ${inflight.length === 1 ? "one request" : `${inflight.length} requests`} in flight (${shown.join(", ")}${inflight.length > 3 ? ", …" : ""})`
    : "";
  return `Watchdog killed worker ${String(e.slot)} (pid ${String(e.workerPid)}) ${ago(now, e.time)}: its event loop was stuck for ${Math.round(Number(e.heartbeatAgeMs) / 100) / 10} s${during}. See the stack in the timeline.`;
}

/** Judges the banner. */
export function bannerFor(i: BannerInput): Banner {
  const bad: string[] = [];
  const warn: string[] = [];
  const recent = i.events.filter((e) => i.now - Date.parse(e.time) <= RECENT_MS);
  if (i.phase !== "running") bad.push(`holdfast is ${i.phase}: it is not serving new requests.`);
  const loop = [...i.events].reverse().find((e) => e.event === "worker.crashloop");
  if (loop)
    bad.push(
      `Crash loop: ${String(loop.crashes)} worker crashes within ${Number(loop.windowMs) / 1000} s (${ago(i.now, loop.time)}); holdfast stopped restarting them. Read the worker.exit events for the cause.`,
    );
  for (const e of recent.filter((x) => x.event === "worker.timeout").reverse()) bad.push(describeKill(i.now, e));
  const shedNow = i.recent.reduce((a, s) => Math.max(a, s.shed), 0);
  if (shedNow > 0)
    bad.push(
      `Shedding load: up to ${shedNow < 10 ? shedNow.toFixed(1) : Math.round(shedNow)} requests/s answered 503 by admission control in the last 10 s (the workers are saturated).`,
    );
  for (const a of i.firing) (a.severity === "critical" ? bad : warn).push(`Alert ${a.rule}${a.state === "resolving" ? " (clearing)" : ""}: ${a.summary}`);
  for (const e of recent) {
    if (e.event === "worker.fatal" || (e.event === "worker.exit" && e.reason === "crash"))
      warn.push(`Worker ${String(e.slot)} (pid ${String(e.workerPid)}) crashed ${ago(i.now, e.time)} and was replaced.`);
  }
  const notReady = i.workers.filter((w) => w.state !== "ready");
  if (notReady.length) warn.push(`${notReady.length} of ${i.workers.length} workers not ready (${notReady.map((w) => `${w.id}: ${w.state}`).join(", ")}).`);
  const lastReload = [...recent].reverse().find((e) => e.event === "reload");
  if (lastReload?.phase === "start") warn.push("Rolling reload in progress.");
  if (bad.length) return { level: "bad", title: bad.length > 1 ? `${bad.length} problems` : "Problem", reasons: [...bad, ...warn] };
  if (warn.length) return { level: "warn", title: "Needs a look", reasons: warn };
  return {
    level: "ok",
    title: "Healthy",
    reasons: [`${i.workers.length} workers ready; no alert firing, nothing shed, no watchdog kill or crash in the last ${RECENT_MS / 60_000} min.`],
  };
}
