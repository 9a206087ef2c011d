/**
 * The rolling reload on SIGHUP: re-read the config (a bad one cancels the reload and the old
 * workers keep serving), replace every worker one by one (worker-replace.ts), none dropped,
 * then grow or shrink to the new worker count. Listen, admin and log settings need a restart.
 */
import type { Config } from "../../config/index.js";
import { retire } from "./worker-drain.js";
import { replace } from "./worker-replace.js";
import { forkWorker } from "./worker-spawn.js";
import type { SupervisorState, WorkerRecord } from "./supervisor-state.js";

/** Settings a running instance keeps until it is restarted. */
const FIXED_UNTIL_RESTART = ["host", "port", "backlog", "admin", "log"] as const;

/** Reloads config and workers; every outcome (ignored, failed, restart-needed, start, done) is a `reload` event. */
export async function reload(s: SupervisorState): Promise<void> {
  if (s.phase !== "running") return;
  if (s.reloading) {
    s.emitEvent("warn", "reload", { phase: "ignored" }, "SIGHUP during a reload: ignored; send it again when the reload has finished");
    return;
  }
  s.reloading = true;
  try {
    if (s.reloadConfig && !(await takeNewConfig(s, s.reloadConfig))) return;
    s.counters.reloads++;
    s.metrics.reloads.inc();
    s.emitEvent("info", "reload", { phase: "start", workers: s.slots.size }, "rolling reload started");
    const started = Date.now();
    try {
      for (const slot of [...s.slots.keys()].sort((a, b) => a - b)) {
        if (slot <= s.config.workers) await replace(s, slot, "reload");
      }
      await resize(s);
      s.emitEvent(
        "info",
        "reload",
        { phase: "done", durationMs: Date.now() - started, workers: s.config.workers },
        `rolling reload finished in ${Date.now() - started} ms`,
      );
    } catch (err) {
      s.emitEvent(
        "error",
        "reload",
        { phase: "failed", error: (err as Error).message },
        `rolling reload stopped: ${(err as Error).message}; the remaining old workers keep serving`,
      );
    }
  } finally {
    s.reloading = false;
  }
}

/** Re-reads the config and makes it current, keeping the settings that need a restart; false when it is invalid. */
async function takeNewConfig(s: SupervisorState, reloadConfig: () => Promise<Config>): Promise<boolean> {
  let next: Config;
  try {
    next = await reloadConfig();
  } catch (err) {
    s.emitEvent(
      "error",
      "reload",
      { phase: "failed", error: (err as Error).message },
      `reload cancelled, the config is invalid; the current workers keep serving with the old config:\n${(err as Error).message}`,
    );
    return false;
  }
  const ignored = FIXED_UNTIL_RESTART.filter((k) => JSON.stringify(next[k]) !== JSON.stringify(s.config[k]));
  if (ignored.length) {
    s.emitEvent(
      "warn",
      "reload",
      { phase: "restart-needed", keys: ignored },
      `changed settings need a restart, not a reload: ${ignored.join(", ")}; they keep their current values`,
    );
  }
  s.config = { ...next, app: s.config.app, ...Object.fromEntries(FIXED_UNTIL_RESTART.map((k) => [k, s.config[k]])) } as Config;
  return true;
}

/** Forks or retires workers so that slots 1..config.workers are filled. */
async function resize(s: SupervisorState): Promise<void> {
  for (const [slot, rec] of [...s.slots]) {
    if (slot > s.config.workers) {
      s.slots.delete(slot);
      retire(s, rec, "reload");
    }
  }
  const added: WorkerRecord[] = [];
  for (let slot = 1; slot <= s.config.workers; slot++) if (!s.slots.has(slot)) added.push(forkWorker(s, slot));
  const results = await Promise.all(added.map((r) => s.waitReady(r)));
  const failed = results.find((r): r is string => r !== true);
  if (failed) throw new Error(failed);
}
