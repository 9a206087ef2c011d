/**
 * Per-instance and total figures of several holdfast instances, each read from one /status
 * document: what `holdfast monitor --once` and `holdfast doctor --admin … --admin …` both print,
 * so the two never count an instance differently. Counts are since each supervisor started
 * (monotonic across reloads); an instance that did not answer is shown DOWN and adds nothing.
 */
import { type InstanceStatus, readStatus } from "./status-document.js";

/** One instance's figures (or the fleet's total). */
export interface InstanceFigures {
  /** Admin URL without credentials, or "TOTAL". */
  instance: string;
  up: boolean;
  /** Why the instance is DOWN. */
  error?: string | undefined;
  /** Workers serving (state ready). */
  workers: number;
  requests: number;
  errors5xx: number;
  shed: number;
  inflight: number;
  restarts: number;
  crashes: number;
  timeouts: number;
  poolBusy: number;
  poolMax: number;
  poolWaiting: number;
  poolTimeouts: number;
}

/** Every instance, then the sum. */
export interface FleetFigures {
  instances: InstanceFigures[];
  total: InstanceFigures;
}

/** What one admin endpoint gave: its /status body (parsed or not), or why it gave none. */
export interface FleetSample {
  instance: string;
  status?: InstanceStatus | unknown;
  error?: string | undefined;
}

const ZERO = {
  workers: 0,
  requests: 0,
  errors5xx: 0,
  shed: 0,
  inflight: 0,
  restarts: 0,
  crashes: 0,
  timeouts: 0,
  poolBusy: 0,
  poolMax: 0,
  poolWaiting: 0,
  poolTimeouts: 0,
};
type Counts = typeof ZERO;
const KEYS = Object.keys(ZERO) as (keyof Counts)[];

function figuresOf(s: FleetSample): InstanceFigures {
  if (s.status === undefined) return { instance: s.instance, up: false, error: s.error ?? "no answer", ...ZERO };
  let st: InstanceStatus;
  try {
    st = readStatus(s.status);
  } catch (err) {
    return { instance: s.instance, up: false, error: (err as Error).message, ...ZERO };
  }
  const f: InstanceFigures = { instance: s.instance, up: true, ...ZERO };
  f.requests = st.counters.requests;
  f.errors5xx = st.counters.status["5xx"] ?? 0;
  f.shed = st.counters.shed;
  f.restarts = st.counters.restarts;
  f.crashes = st.counters.crashes;
  f.timeouts = st.counters.timeouts;
  for (const w of st.workers) {
    if (w.state === "ready") f.workers++;
    f.inflight += w.inflight;
    const p = w.db?.pool;
    if (!p) continue;
    f.poolBusy += p.busy;
    f.poolMax += p.max;
    f.poolWaiting += p.waiting;
    f.poolTimeouts += p.timeouts;
  }
  return f;
}

/** Figures per instance and their total, in the order given. */
export function fleetFigures(samples: FleetSample[]): FleetFigures {
  const instances = samples.map(figuresOf);
  const total: InstanceFigures = { instance: "TOTAL", up: instances.some((i) => i.up), ...ZERO };
  for (const i of instances) for (const k of KEYS) total[k] += i[k];
  return { instances, total };
}

/** The figures as a plain table, one row per instance and a TOTAL row. */
export function fleetTable(f: FleetFigures): string {
  const head = ["instance", "state", "workers", "requests", "5xx", "shed", "in flight", "restarts", "pool busy/max", "pool waiting", "pool timeouts"];
  const row = (i: InstanceFigures) => [
    i.instance,
    i.instance === "TOTAL" ? `${f.instances.filter((x) => x.up).length}/${f.instances.length} UP` : i.up ? "UP" : "DOWN",
    String(i.workers),
    String(i.requests),
    String(i.errors5xx),
    String(i.shed),
    String(i.inflight),
    String(i.restarts),
    `${i.poolBusy}/${i.poolMax}`,
    String(i.poolWaiting),
    String(i.poolTimeouts),
  ];
  const rows = [head, ...f.instances.map(row), row(f.total)];
  const widths = head.map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
  const lines = rows.map((r) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number)))
      .join("  ")
      .trimEnd(),
  );
  const down = f.instances.filter((i) => !i.up).map((i) => `  ${i.instance} is DOWN: ${i.error}`);
  return [...lines, ...down].join("\n");
}
