/**
 * Durations on the `holdfast load` command line and in scenario files. A bare number means
 * seconds, as in autocannon and k6 (`--duration 10` is ten seconds, not ten milliseconds as the
 * config parser would read it); `ms`, `s` and `m` are accepted as units.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** Parses "10", "10s", "500ms", "1.5m" into milliseconds; undefined when it is none of those. */
export function parseLoadDuration(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(value);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNITS[(m[2] ?? "s").toLowerCase()] ?? 1000));
}
