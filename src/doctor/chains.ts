/**
 * The causal model: findings form chains — a proxy symptom (504 read timeout, 502, refused) is
 * produced by an app-level cause (lock, pool, stuck worker, crash, event-loop block, memory),
 * which a configuration cause (timeout inversion, …) may produce in turn. Links come from the
 * failed requests two findings share (and the time lag between their records), or are declared
 * by a configuration rule. The report lists the deepest cause with evidence first and each
 * effect under its causes, never above them.
 */
import type { CausalLink, Correlation, Dataset, Finding, FindingLayer, Located, MatchPair, ProxyRecord, Severity } from "./types.js";
import { requestSpan, spreadOf } from "./match.js";

/** Proxy-level symptoms: what the proxy saw, produced by a cause deeper down. */
const SYMPTOMS = new Set(["proxy-read-timeout", "upstream-down", "all-upstreams-down", "proxy-queue", "app-errors", "unexplained-failures"]);
/** Configuration causes: settings that turn an app-level problem into failures. */
const CONFIG = new Set(["timeout-inversion"]);

/** Where a finding sits in the model (by id). */
export function layerOf(id: string): FindingLayer {
  if (CONFIG.has(id) || id.startsWith("timeout-budget/")) return "config";
  if (SYMPTOMS.has(id)) return "symptom";
  return "app";
}

const DEPTH: Record<FindingLayer, number> = { config: 0, app: 1, symptom: 2 };
const SEVERITY: Record<Severity, number> = { critical: 0, error: 1, warning: 2, info: 3 };

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function seconds(ms: number): string {
  return `${(Math.abs(ms) / 1000).toFixed(1)} s`;
}

const QUALITY: Record<MatchPair["by"], number> = { "request-id": 0, "request-start": 1, "lag-pattern": 1, "death-window": 1, lifetime: 2 };

/**
 * Links app-level causes to the symptoms whose failed requests they share. Each failed request of
 * a symptom has one cause: of the causes that claim it, the one joined best (request id, then the
 * lag pattern, then the lifetime; then the smallest lag). A cause is linked when it is the best
 * cause of two requests, or of one joined by request id or lag pattern: one coincidence in time is
 * not a cause.
 */
export function sharedFailureLinks(findings: Finding[], corr: Correlation, data: Dataset): CausalLink[] {
  const out: CausalLink[] = [];
  const causes = findings.filter((f) => layerOf(f.id) === "app");
  const symptoms = findings.filter((f) => layerOf(f.id) === "symptom");
  const pairOf = new Map<Finding, Map<number, MatchPair>>();
  for (const c of causes) pairOf.set(c, new Map((corr.pairs.get(c) ?? []).map((p) => [p.failure, p])));
  for (const s of symptoms) {
    const sc = corr.claims.get(s);
    if (!sc || sc.size === 0) continue;
    const won = new Map<Finding, { i: number; lag: number | undefined; strong: boolean }[]>();
    for (const i of sc) {
      let best: Finding | undefined;
      let bestKey = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
      for (const c of causes) {
        if (!corr.claims.get(c)?.has(i)) continue;
        const p = pairOf.get(c)?.get(i);
        const key = [p ? QUALITY[p.by] : 3, p ? Math.abs(p.lagMs) : Number.POSITIVE_INFINITY];
        if (key[0] < (bestKey[0] as number) || (key[0] === bestKey[0] && (key[1] as number) < (bestKey[1] as number))) {
          best = c;
          bestKey = key;
        }
      }
      if (!best) continue;
      const p = pairOf.get(best)?.get(i);
      // Without event pairs (a worker death claims a window), the lag is from the failure to the cause's first record.
      // A lifetime join names the nearest failure in time, not the event's own request: among
      // dense failures its "lag" is to a neighbour (0 s where the truth is 2 s), so none is stated.
      const lag = p
        ? p.by === "lifetime"
          ? undefined
          : p.lagMs
        : best.evidence.window
          ? best.evidence.window.from - requestSpan((data.failures[i] as Located<ProxyRecord>).record).end
          : undefined;
      const list = won.get(best) ?? [];
      list.push({ i, lag, strong: p !== undefined && p.by !== "lifetime" });
      won.set(best, list);
    }
    for (const [c, list] of won) {
      if (list.length < 2 && !list.some((x) => x.strong)) continue;
      const lags = list.map((x) => x.lag).filter((v): v is number => v !== undefined);
      const lag = lags.length ? median(lags) : undefined;
      const spread = lags.length > 1 ? spreadOf(lags) : undefined;
      const deaths = list.every((x) => pairOf.get(c)?.get(x.i)?.by === "death-window");
      const when = deaths
        ? ` They fall in the windows of ${c.id}'s deaths (from the stuck request to the replacement listening)${lag !== undefined ? `; the deaths were logged ${seconds(lag)} ${lag >= 0 ? "after" : "before"} them (median)` : ""}.`
        : lag === undefined
          ? " They were joined by time and path only (no request id, no steady lag): the delay between the two logs is not measured."
          : Math.abs(lag) < 1000
            ? ` The app logged it within ${seconds(Math.max(1000, Math.abs(lag)))} of the proxy's answer.`
            : lag > 0
              ? ` The app logged it ${seconds(lag)} after the proxy had already answered${spread !== undefined ? ` (spread ${seconds(spread)})` : ""}: the app was still waiting when the proxy gave up.`
              : ` The app logged it ${seconds(lag)} before the proxy's answer.`;
      out.push({
        from: c.id,
        to: s.id,
        shared: list.length,
        lagMs: lag !== undefined ? Math.round(lag) : undefined,
        lagSpreadMs: spread !== undefined ? Math.round(spread) : undefined,
        evidence: `${list.length} of the ${sc.size} failed requests of ${s.id} are requests ${c.id} explains.${when}`,
      });
    }
  }
  return out;
}

/** How long before the proxy marked every server down the failures that marked them may come (nginx fail_timeout, HAProxy fall × inter). */
const MARKING_MS = 30_000;

/**
 * "No live upstreams" / `<NOSRV>` is what the proxy does after failures marked every server down:
 * it is linked to the finding whose failed requests came in the 30 s before the first such
 * answer (most of them), e.g. `upstream-down → all-upstreams-down` when a restart refused
 * connections and the health checks took the only server out.
 */
export function markedDownLinks(findings: Finding[], corr: Correlation, data: Dataset): CausalLink[] {
  const out: CausalLink[] = [];
  for (const s of findings) {
    if (s.id !== "all-upstreams-down" || !s.evidence.window) continue;
    const first = s.evidence.window.from;
    const mine = corr.claims.get(s) ?? new Set<number>();
    let best: { f: Finding; n: number; last: number } | undefined;
    for (const f of findings) {
      if (f === s || f.id === "timeout-inversion" || f.id.startsWith("timeout-budget/")) continue;
      let n = 0;
      let last = Number.NEGATIVE_INFINITY;
      for (const i of corr.claims.get(f) ?? []) {
        if (mine.has(i)) continue;
        const t = (data.failures[i] as Located<ProxyRecord>).record.time;
        if (t >= first - MARKING_MS && t <= first + 2000) {
          n++;
          last = Math.max(last, t);
        }
      }
      if (n > 0 && (!best || n > best.n)) best = { f, n, last };
    }
    if (!best) continue;
    const lag = first - best.last;
    out.push({
      from: best.f.id,
      to: s.id,
      shared: 0,
      lagMs: Math.round(lag),
      evidence: `${best.n} failed request${best.n === 1 ? "" : "s"} of ${best.f.id} came in the ${MARKING_MS / 1000} s before the proxy first answered without trying a server (${seconds(Math.max(0, lag))} before it): those failures (and the health checks failing the same way) marked the servers down.`,
    });
  }
  return out;
}

/**
 * Fills `causes`, `explainedBy` and `links` on every finding from the links: those declared by
 * rules (already in `links`, from the cause's side) plus the computed ones.
 */
export function applyLinks(findings: Finding[], computed: CausalLink[]): void {
  const ids = new Set(findings.map((f) => f.id));
  const all: CausalLink[] = [];
  const seen = new Set<string>();
  for (const l of [...findings.flatMap((f) => (f.links ?? []).filter((x) => x.from === f.id)), ...computed]) {
    const k = `${l.from}→${l.to}`;
    if (seen.has(k) || !ids.has(l.from) || !ids.has(l.to) || l.from === l.to) continue;
    seen.add(k);
    all.push(l);
  }
  for (const f of findings) {
    f.causes = all.filter((l) => l.from === f.id).map((l) => l.to);
    f.explainedBy = all.filter((l) => l.to === f.id).map((l) => l.from);
    f.links = all.filter((l) => l.from === f.id || l.to === f.id);
  }
}

/** Most failed requests any finding of the chain below `f` (itself included) explains. */
function chainExplains(f: Finding, byId: Map<string, Finding>, seen: Set<string> = new Set()): number {
  if (seen.has(f.id)) return 0;
  seen.add(f.id);
  let n = f.explains;
  for (const id of f.causes ?? []) {
    const k = byId.get(id);
    if (k) n = Math.max(n, chainExplains(k, byId, seen));
  }
  return n;
}

/**
 * Rank of root chains: chains that explain failed requests first, the deepest layer first among
 * them, then how many; chains without failures by severity (info last), then depth.
 */
function rootOrder(byId: Map<string, Finding>): (a: Finding, b: Finding) => number {
  const n = new Map<Finding, number>();
  const ex = (f: Finding) => {
    let v = n.get(f);
    if (v === undefined) {
      v = chainExplains(f, byId);
      n.set(f, v);
    }
    return v;
  };
  return (a, b) => {
    const ea = ex(a);
    const eb = ex(b);
    const fa = Number(ea > 0);
    const fb = Number(eb > 0);
    if (fa !== fb) return fb - fa;
    const depth = DEPTH[layerOf(a.id)] - DEPTH[layerOf(b.id)];
    const sev = SEVERITY[a.severity] - SEVERITY[b.severity];
    return (fa ? depth || eb - ea || sev : sev || depth) || b.confidence - a.confidence || a.id.localeCompare(b.id);
  };
}

/** A finding placed in the report: its depth under its first cause (0 for a root). */
export interface Placed {
  finding: Finding;
  depth: number;
}

/**
 * Orders findings by chain: roots (nothing explains them) ranked by {@link rootOrder}, each
 * followed by what it produces, depth first. An effect with several causes is placed under the
 * last of them to be listed, so it never comes above any of its causes.
 */
export function chainOrder(findings: Finding[]): Placed[] {
  const byId = new Map<string, Finding>();
  for (const f of findings) if (!byId.has(f.id)) byId.set(f.id, f);
  const placed = new Set<Finding>();
  const out: Placed[] = [];
  const order = rootOrder(byId);
  const parentsPlaced = (f: Finding) =>
    (f.explainedBy ?? []).every((p) => {
      const pf = byId.get(p);
      return pf === undefined || placed.has(pf);
    });
  const visit = (f: Finding, depth: number) => {
    if (placed.has(f)) return;
    placed.add(f);
    out.push({ finding: f, depth });
    const kids = (f.causes ?? []).map((id) => byId.get(id)).filter((k): k is Finding => k !== undefined && !placed.has(k));
    for (const k of kids.sort(order)) if (parentsPlaced(k)) visit(k, depth + 1);
  };
  const roots = findings.filter((f) => (f.explainedBy ?? []).length === 0).sort(order);
  for (const r of roots) visit(r, 0);
  // A cycle (no finding should produce its own cause) still gets every finding listed.
  for (const f of [...findings].sort(order)) visit(f, 0);
  return out;
}

/** Ids of every finding above `f` in its chains. */
export function ancestors(f: Finding, byId: Map<string, Finding>): Set<string> {
  const out = new Set<string>();
  const stack = [...(f.explainedBy ?? [])];
  while (stack.length) {
    const id = stack.pop() as string;
    if (out.has(id)) continue;
    out.add(id);
    stack.push(...(byId.get(id)?.explainedBy ?? []));
  }
  return out;
}
