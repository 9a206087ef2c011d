/** The --json report: an object whose `findings` array is ranked; times as ISO strings. */
import { layerOf } from "../chains.js";
import type { DoctorResult } from "../run.js";
import type { Finding } from "../types.js";

/** JSON shape of a finding (window as ISO strings). */
export type JsonFinding = Omit<Finding, "evidence"> & {
  /** "config", "app" or "symptom": where the finding sits in the causal model. */
  layer: string;
  evidence: Omit<Finding["evidence"], "window"> & { window?: { from: string; to: string } | undefined };
};

const iso = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString() : null);

/** Serialises a result for machines. */
export function toJson(result: DoctorResult): string {
  const findings: JsonFinding[] = result.findings.map((f) => ({
    ...f,
    layer: layerOf(f.id),
    causes: f.causes ?? [],
    explainedBy: f.explainedBy ?? [],
    links: f.links ?? [],
    confidence: Math.round(f.confidence * 100) / 100,
    evidence: {
      ...f.evidence,
      window: f.evidence.window ? ({ from: iso(f.evidence.window.from), to: iso(f.evidence.window.to) } as { from: string; to: string }) : undefined,
    },
  }));
  return `${JSON.stringify(
    {
      healthy: result.healthy,
      generatedAt: new Date().toISOString(),
      totals: {
        proxyRequests: result.data.proxyRequests,
        failedRequests: result.data.failedTotal,
        statusCounts: result.data.statusCounts,
        appRequests: result.data.appRequests,
      },
      files: result.data.files.map((f) => ({
        file: f.file,
        kind: f.kind,
        bytes: f.bytes,
        lines: f.lines,
        records: f.records,
        garbage: f.garbage,
        outOfWindow: f.outOfWindow,
        continued: f.continued ?? 0,
      })),
      instances: result.instances,
      findings,
    },
    null,
    2,
  )}\n`;
}
