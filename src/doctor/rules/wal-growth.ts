/**
 * WAL growth / checkpoint starvation: the SQLite write-ahead log keeps growing because
 * checkpoints cannot finish (a long-lived reader holds an old snapshot) or never run.
 * Reads slow down as the WAL grows, and disk fills.
 */
import { configDefaults, formatDuration, formatSize } from "../../config/index.js";
import type { Correlation, Dataset, Finding, Rule } from "../types.js";
import { max, numbers } from "./app-event-rule.js";
import { between, sample, windowOfTimes } from "./evidence.js";

/** WAL size past which checkpoints are clearly not keeping up: the default `db.sqlite.journalSizeLimit`. */
export const WAL_LIMIT_BYTES = configDefaults.db.sqlite.journalSizeLimit;
const sqliteDefaults = configDefaults.db.sqlite;

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

export const walGrowth: Rule = {
  id: "wal-growth",
  summary: "SQLite WAL file keeps growing: checkpoints starved by long readers or never run.",
  run(data: Dataset, _corr: Correlation): Finding[] {
    const events = data.appEvents.filter((e) => e.record.event === "wal.size");
    const sizes = numbers(events, "walBytes");
    const logged = max(sizes);
    const probes = (data.probes.sqlite ?? []).filter((p) => p.walBytes !== undefined && p.walBytes > WAL_LIMIT_BYTES);
    const probed = max(probes.map((p) => p.walBytes ?? 0));
    const growing = sizes.length >= 3 && (sizes[sizes.length - 1] as number) > (sizes[0] as number) * 2;
    if (!(logged !== undefined && logged > WAL_LIMIT_BYTES) && probed === undefined) return [];
    const worst = Math.max(logged ?? 0, probed ?? 0);
    const w = windowOfTimes(events.map((e) => e.record.time));
    const path = probes[0]?.path ?? (typeof events[0]?.record.fields.path === "string" ? events[0].record.fields.path : undefined);
    return [
      {
        id: "wal-growth",
        title: "SQLite WAL growing: checkpoints cannot keep up",
        severity: worst > 1024 * 1024 * 1024 ? "error" : "warning",
        confidence: growing || probed !== undefined ? 0.8 : 0.6,
        explains: 0,
        evidence: {
          summary: `The WAL reached ${mb(worst)}${events.length ? ` (${events.length} wal.size events ${between(w)}${growing ? ", still growing" : ""})` : ""}${probes.length ? `; ${probes.map((p) => `${p.path}-wal is ${mb(p.walBytes ?? 0)} now`).join("; ")}` : ""}. A checkpoint can only reset the WAL when no reader still uses an old snapshot.`,
          counts: { walBytes: worst, events: events.length },
          window: w,
          samples: events.slice(-2).map(sample),
        },
        fix: {
          summary:
            "Find and end long-lived read transactions (open cursors, iterators left open), then checkpoint with TRUNCATE. `holdfast doctor --fix --yes` backs the database up and runs wal_checkpoint(TRUNCATE).",
          holdfast: `db: { sqlite: { journalSizeLimit: "${formatSize(sqliteDefaults.journalSizeLimit)}", walAutocheckpoint: ${sqliteDefaults.walAutocheckpoint}, checkpointInterval: "${formatDuration(sqliteDefaults.checkpointInterval)}" } }`,
          action: path ? { kind: "sqlite-checkpoint", path } : undefined,
        },
      },
    ];
  },
};
