/**
 * The --fix plan: safe SQLite maintenance (always after an online backup) and the suggested
 * config changes, which go to a patch file for a person to review — the doctor never edits configs.
 */
import type { DoctorResult } from "../run.js";
import type { SafeAction } from "../types.js";

/** One step the doctor may apply itself. */
export interface FixStep {
  kind: "sqlite-backup" | SafeAction["kind"];
  path: string;
  /** Why this step is in the plan, for the person reading it. */
  why: string;
}

/** What --fix would do. */
export interface FixPlan {
  steps: FixStep[];
  /** Text of the suggested config changes (empty when none). */
  patch: string;
  patchFile: string;
}

/** Builds the plan from a doctor result. Pure. */
export function planFixes(result: DoctorResult, patchFile = "holdfast-doctor.patch"): FixPlan {
  const byPath = new Map<string, Map<SafeAction["kind"], string>>();
  const want = (path: string, kind: SafeAction["kind"], why: string) => {
    const m = byPath.get(path) ?? new Map();
    if (!m.has(kind)) m.set(kind, why);
    byPath.set(path, m);
  };
  for (const f of result.findings) if (f.fix.action) want(f.fix.action.path, f.fix.action.kind, f.title);
  for (const p of result.data.probes.sqlite ?? []) {
    if (p.quickCheck !== undefined && p.quickCheck !== "ok") continue; // never touch a damaged file
    if (p.journalMode !== "wal") want(p.path, "sqlite-wal", `journal_mode is ${p.journalMode}`);
    if ((p.walBytes ?? 0) > 0) want(p.path, "sqlite-checkpoint", `WAL holds ${p.walBytes} bytes`);
    want(p.path, "sqlite-optimize", "refresh the query planner's statistics");
  }
  const damaged = new Set((result.data.probes.sqlite ?? []).filter((p) => p.quickCheck !== undefined && p.quickCheck !== "ok").map((p) => p.path));
  const steps: FixStep[] = [];
  const order: SafeAction["kind"][] = ["sqlite-wal", "sqlite-checkpoint", "sqlite-optimize"];
  for (const [path, kinds] of byPath) {
    if (damaged.has(path)) continue;
    steps.push({ kind: "sqlite-backup", path, why: "online backup before any change" });
    for (const k of order) {
      const why = kinds.get(k);
      if (why) steps.push({ kind: k, path, why });
    }
  }
  return { steps, patch: buildPatch(result), patchFile };
}

const TARGETS = [
  ["holdfast", "holdfast.config (holdfast)"],
  ["nginx", "nginx config"],
  ["haproxy", "HAProxy config"],
  ["alb", "AWS ALB"],
] as const;

function buildPatch(result: DoctorResult): string {
  const out: string[] = [];
  for (const f of result.findings) {
    if (f.severity === "info") continue;
    const parts = TARGETS.filter(([k]) => f.fix[k]);
    if (!parts.length && !f.fix.stack) continue;
    out.push(`### ${f.id}: ${f.title}`, `# ${f.fix.summary}`);
    // The app's own stack first: its words are the ones the reader's config uses.
    if (f.fix.stack) out.push(`## ${f.fix.stack.name}`, f.fix.stack.lines);
    for (const [k, label] of parts) out.push(`## ${label}`, f.fix[k] as string);
    out.push("");
  }
  if (!out.length) return "";
  return [
    "# Suggested by `holdfast doctor --fix`. Nothing below was applied: review each block and copy it into the named config.",
    `# Generated ${new Date().toISOString()}`,
    "",
    ...out,
  ].join("\n");
}

/** The plan as text for the terminal. */
export function describePlan(plan: FixPlan): string {
  const lines: string[] = [];
  if (plan.steps.length) {
    lines.push("Safe fixes (applied only with --yes):");
    for (const [i, s] of plan.steps.entries()) lines.push(`  ${i + 1}. ${STEP_TEXT[s.kind]} ${s.path} — ${s.why}`);
  } else lines.push("No safe fix to apply (the doctor only applies SQLite maintenance itself).");
  lines.push(plan.patch ? `Config changes: written to ${plan.patchFile} for review (configs are never edited).` : "No config change suggested.");
  return `${lines.join("\n")}\n`;
}

/** What each step does, in words. */
export const STEP_TEXT: Record<FixStep["kind"], string> = {
  "sqlite-backup": "Online backup of",
  "sqlite-wal": "PRAGMA journal_mode=WAL on",
  "sqlite-checkpoint": "PRAGMA wal_checkpoint(TRUNCATE) on",
  "sqlite-optimize": "PRAGMA optimize on",
};
