/**
 * Route priorities: which requests are never shed (critical), shed first (sheddable), or
 * treated normally. Longest matching path prefix wins; /healthz and /readyz are always critical.
 */
import type { Priority } from "./types.js";

/** A configured rule (admission.routes[]). */
export interface RouteRule {
  path: string;
  priority: Priority;
}

/** Paths that are critical whatever the config says: a load balancer must see the truth. */
export const ALWAYS_CRITICAL = ["/healthz", "/readyz"] as const;

/** Precomputed prefix matcher; rules sorted longest first at set-up so lookup stops at the first hit. */
export class RoutePriorities {
  readonly #rules: RouteRule[];

  constructor(rules: readonly RouteRule[]) {
    const all: RouteRule[] = [...rules.filter((r) => !(ALWAYS_CRITICAL as readonly string[]).includes(r.path))];
    for (const p of ALWAYS_CRITICAL) all.push({ path: p, priority: "critical" });
    this.#rules = all.sort((a, b) => b.path.length - a.path.length);
  }

  /** Priority of a URL path (no query string). */
  of(path: string): Priority {
    for (const r of this.#rules) {
      if (!path.startsWith(r.path)) continue;
      // "/api" must match "/api" and "/api/x" but not "/apix".
      if (path.length === r.path.length || r.path.endsWith("/") || path.charCodeAt(r.path.length) === 47) return r.priority;
    }
    return "normal";
  }
}
