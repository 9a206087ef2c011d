/**
 * The watch the supervisor keeps on ready workers, every 250 ms: a worker whose heartbeat is
 * older than timeouts.heartbeat has a stuck event loop and is killed and replaced (with what its
 * stall watchdog saw: the stack and the requests in flight); one over recycle.maxRss is recycled.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { StallReport } from "../worker/stall-watchdog.js";
import type { SupervisorState, WorkerRecord } from "./supervisor-state.js";
import { replace } from "./worker-replace.js";
import { forkReplacement } from "./worker-spawn.js";

/** How often ready workers are checked (ms). */
const CHECK_EVERY_MS = 250;
/** How long a stuck last worker is kept (spinning, listen socket open) while its replacement starts. */
const STUCK_KILL_WAIT_MAX_MS = 10_000;

/** Starts the watch; shutdown stops it. */
export function startHeartbeatWatch(s: SupervisorState): void {
  s.watch = setInterval(() => checkWorkers(s), CHECK_EVERY_MS);
}

function checkWorkers(s: SupervisorState): void {
  const now = Date.now();
  const hb = s.config.timeouts.heartbeat;
  for (const rec of s.slots.values()) {
    if (rec.phase !== "ready") continue;
    if (hb > 0 && now - rec.lastHeartbeat > hb) {
      killStuckWorker(s, rec, now - rec.lastHeartbeat);
      continue;
    }
    const maxRss = s.config.recycle.maxRss;
    if (maxRss > 0 && rec.stats && rec.stats.rssBytes > maxRss) {
      void replace(s, rec.slot, "recycle", { reason: "maxRss", rssBytes: rec.stats.rssBytes, maxRss });
    }
  }
}

function killStuckWorker(s: SupervisorState, rec: WorkerRecord, ageMs: number): void {
  rec.phase = "draining";
  rec.killedBy = "timeout";
  // A stuck worker reports nothing more: its last heartbeat is final, so its counts move to
  // the carried totals now rather than vanish from /metrics until the process is gone.
  s.metrics.retire(rec);
  s.counters.timeouts++;
  s.metrics.timeouts.inc();
  const stall = readStall(s, rec);
  const inflight = stall?.inflight ?? rec.stats?.oldest ?? [];
  const top = inflight[0];
  s.emitEvent(
    "error",
    "worker.timeout",
    { slot: rec.slot, workerPid: rec.pid, heartbeatAgeMs: ageMs, heartbeatTimeoutMs: s.config.timeouts.heartbeat, inflight, stack: stall?.stack },
    `worker ${rec.slot} (pid ${rec.pid}) missed its heartbeat for ${Math.round(ageMs / 100) / 10} s (event loop stuck)${top ? ` while handling ${top.method} ${top.path} (${top.reqId}, ${Math.round(top.ageMs / 1000)} s old)` : ""}; killing and replacing it`,
  );
  rec.worker.process.kill("SIGTERM");
  // Retiring, so a shutdown that starts meanwhile waits for it (and kills it at the hard limit).
  s.retiring.add(rec);
  const fresh = s.phase === "running" ? forkReplacement(s, rec.slot) : undefined;
  // A stuck event loop never runs its SIGTERM handler: follow up with SIGKILL after a second.
  // When it is the last worker listening, wait for its replacement first (up to a bound):
  // node:cluster closes the listen socket with its last worker, and connections would be
  // refused until the replacement listens; kept open, they wait and the replacement serves them.
  const kill = () => {
    if (rec.phase !== "exited") rec.worker.process.kill("SIGKILL");
  };
  const othersListening = [...s.slots.values()].some((r) => r !== fresh && r.phase === "ready");
  const second = new Promise((r) => setTimeout(r, 1000).unref());
  if (othersListening || !fresh) void second.then(kill);
  else {
    const bound = new Promise((r) => setTimeout(r, STUCK_KILL_WAIT_MAX_MS).unref());
    void Promise.all([second, Promise.race([s.waitReady(fresh), bound])]).then(kill);
  }
}

/** The stall watchdog's report for this worker process, if its thread wrote one. */
function readStall(s: SupervisorState, rec: WorkerRecord): StallReport | undefined {
  try {
    for (const name of readdirSync(s.stallDir)) {
      if (!name.startsWith(`stall-${rec.slot}-`) || !name.endsWith(".json")) continue;
      const report = JSON.parse(readFileSync(join(s.stallDir, name), "utf8")) as StallReport;
      if (report.pid === rec.pid) return report;
    }
  } catch {
    // No report (the watchdog thread may itself be starved); the heartbeat snapshot is used instead.
  }
  return undefined;
}
