/**
 * Alert lifecycle per (rule, instance): a condition must hold for `for` before the alert
 * fires and stay clear for `resolveFor` before it resolves, so a value hovering at the
 * threshold does not flap. Pure: time is passed in.
 *
 *   inactive ──cond──▶ pending ──held `for`──▶ firing ──clear──▶ resolving ──clear `resolveFor`──▶ inactive
 *                 ◀──clear──             ◀──────cond again───────┘
 */
import type { Alert, AlertState, AlertTransition, RuleResult } from "./types.js";

interface Entry {
  state: AlertState;
  /** When the current state began. */
  since: number;
  firedAt?: number;
  last: RuleResult;
}

const key = (r: { rule: string; instance: string }) => `${r.rule}\u0000${r.instance}`;
const iso = (ms: number) => new Date(ms).toISOString();

/** Holds every alert's state across evaluations. */
export class AlertBook {
  readonly #forMs: number;
  readonly #resolveForMs: number;
  readonly #entries = new Map<string, Entry>();

  /** `forMs`: hold time before firing; `resolveForMs`: clear time before resolving. */
  constructor(forMs: number, resolveForMs: number) {
    this.#forMs = forMs;
    this.#resolveForMs = resolveForMs;
  }

  /** Applies rule results at time `now`; returns the alerts that fired or resolved. Rules not in `results` keep their state. */
  apply(results: readonly RuleResult[], now: number): AlertTransition[] {
    const out: AlertTransition[] = [];
    for (const r of results) {
      const k = key(r);
      let e = this.#entries.get(k);
      if (!e) {
        if (!r.active) continue;
        e = { state: "inactive", since: now, last: r };
        this.#entries.set(k, e);
      }
      e.last = r;
      switch (e.state) {
        case "inactive":
          if (r.active) {
            e.state = "pending";
            e.since = now;
          }
          break;
        case "pending":
          if (!r.active) {
            this.#entries.delete(k);
            continue;
          }
          break;
        case "firing":
          if (!r.active) {
            e.state = "resolving";
            e.since = now;
          }
          break;
        case "resolving":
          if (r.active) {
            e.state = "firing";
            e.since = e.firedAt ?? now;
          }
          break;
      }
      if (e.state === "pending" && now - e.since >= this.#forMs) {
        e.state = "firing";
        e.firedAt = now;
        out.push({ status: "firing", alert: this.#alert(e) });
      } else if (e.state === "resolving" && now - e.since >= this.#resolveForMs) {
        const resolved = { ...this.#alert(e), state: "inactive" as const, resolvedAt: iso(now) };
        out.push({ status: "resolved", alert: resolved });
        this.#entries.delete(k);
      }
    }
    return out;
  }

  /** Alerts currently pending, firing or resolving, most severe first. */
  alerts(): Alert[] {
    const rank: Record<AlertState, number> = { firing: 0, resolving: 1, pending: 2, inactive: 3 };
    return [...this.#entries.values()]
      .filter((e) => e.state !== "inactive")
      .map((e) => this.#alert(e))
      .sort((a, b) => rank[a.state] - rank[b.state] || a.rule.localeCompare(b.rule) || a.instance.localeCompare(b.instance));
  }

  /** True while any alert is firing (or firing and waiting out resolveFor). */
  anyFiring(): boolean {
    return [...this.#entries.values()].some((e) => e.state === "firing" || e.state === "resolving");
  }

  #alert(e: Entry): Alert {
    return {
      rule: e.last.rule,
      instance: e.last.instance,
      state: e.state,
      severity: e.last.severity,
      value: e.last.value,
      threshold: e.last.threshold,
      summary: e.last.summary,
      since: iso(e.firedAt ?? e.since),
      firedAt: e.firedAt !== undefined ? iso(e.firedAt) : undefined,
    };
  }
}
