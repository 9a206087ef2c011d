/**
 * Applies the safe steps of a plan and verifies each. A database is only changed after its
 * online backup verified; a failed step stops the steps for that database. Never deletes data.
 */
import { existsSync, statfsSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { backupSqlite, checkpointSqlite, inspectSqlite, optimizeSqlite } from "../../db/index.js";
import { type FixPlan, type FixStep, STEP_TEXT } from "./plan.js";

/** Result of one step. */
export interface FixOutcome {
  step: FixStep;
  ok: boolean;
  /** What was checked afterwards, or why it failed. */
  detail: string;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
}

async function runStep(step: FixStep, backups: Map<string, string>): Promise<string> {
  if (step.kind === "sqlite-backup") {
    const size = statSync(step.path).size + (existsSync(`${step.path}-wal`) ? statSync(`${step.path}-wal`).size : 0);
    const fs = statfsSync(dirname(step.path));
    if (fs.bavail * fs.bsize < size * 1.2) throw new Error(`not enough free disk for a backup (${size} bytes needed)`);
    const dest = `${step.path}.holdfast-backup-${stamp()}`;
    await backupSqlite(step.path, dest);
    const qc = inspectSqlite(dest, { readonly: true, quickCheck: true }).quickCheck;
    if (qc !== "ok") throw new Error(`backup ${dest} failed its quick_check: ${qc}`);
    backups.set(step.path, dest);
    return `backup written to ${dest}, quick_check ok`;
  }
  if (!backups.has(step.path)) throw new Error("no verified backup of this database; not touching it");
  if (step.kind === "sqlite-checkpoint") {
    const r = checkpointSqlite(step.path, "TRUNCATE");
    if (r.busy !== 0)
      throw new Error(`checkpoint blocked by a reader (busy=${r.busy}; ${r.checkpointed}/${r.log} frames); end long read transactions and run again`);
    return `WAL ${r.walBytesBefore} → ${r.walBytesAfter} bytes`;
  }
  if (step.kind === "sqlite-wal") {
    // Not a `holdfast db` command: switching to WAL is what opening the database for serving does, so it stays here.
    const db = new Database(step.path, { fileMustExist: true, timeout: 5000 });
    try {
      const mode = String(db.pragma("journal_mode = WAL", { simple: true }));
      if (mode !== "wal") throw new Error(`journal_mode is still ${mode} (another connection may hold the database)`);
      return "journal_mode is now wal";
    } finally {
      db.close();
    }
  }
  optimizeSqlite(step.path);
  return "optimize ran";
}

/** Applies every step in order and writes the patch file; returns what happened to each step. */
export async function applyFixes(plan: FixPlan): Promise<{ outcomes: FixOutcome[]; patchFile?: string }> {
  const outcomes: FixOutcome[] = [];
  const backups = new Map<string, string>();
  const failed = new Set<string>();
  for (const step of plan.steps) {
    if (failed.has(step.path)) {
      outcomes.push({ step, ok: false, detail: "skipped: an earlier step on this database failed" });
      continue;
    }
    try {
      outcomes.push({ step, ok: true, detail: await runStep(step, backups) });
    } catch (err) {
      failed.add(step.path);
      outcomes.push({ step, ok: false, detail: (err as Error).message });
    }
  }
  let patchFile: string | undefined;
  if (plan.patch) {
    patchFile = existsSync(plan.patchFile) ? `${plan.patchFile}.${stamp()}` : plan.patchFile;
    writeFileSync(patchFile, plan.patch, { flag: "wx" });
  }
  return { outcomes, patchFile };
}

/** Outcomes as text. */
export function describeOutcomes(r: { outcomes: FixOutcome[]; patchFile?: string | undefined }): string {
  const lines = r.outcomes.map((o) => `  ${o.ok ? "done" : "FAILED"}  ${STEP_TEXT[o.step.kind]} ${o.step.path}: ${o.detail}`);
  if (r.patchFile) lines.push(`  Suggested config changes written to ${r.patchFile} (review and apply them yourself).`);
  return `${lines.join("\n")}\n`;
}
