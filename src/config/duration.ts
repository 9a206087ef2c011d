/**
 * Human units for durations and sizes in config ("30s", "250ms", "512MB"),
 * so a config file reads like the nginx and gunicorn configs next to it.
 */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  k: 1024,
  mb: 1024 ** 2,
  m: 1024 ** 2,
  gb: 1024 ** 3,
  g: 1024 ** 3,
};

/** Parses "30s", "250ms", "1.5m", "2h" or a bare number of milliseconds; returns ms or undefined. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(value);
  if (!m) return undefined;
  const unit = (m[2] ?? "ms").toLowerCase();
  return Math.round(Number(m[1]) * (DURATION_UNITS[unit] ?? 1));
}

/** Parses "512MB", "1g", "4096" (bytes); returns bytes or undefined. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?|[kmg])?\s*$/i.exec(value);
  if (!m) return undefined;
  const unit = (m[2] || "b").toLowerCase();
  const mult = SIZE_UNITS[unit];
  return mult === undefined ? undefined : Math.round(Number(m[1]) * mult);
}

/** Formats milliseconds the way a person writes them in config: 65000 → "65s". */
export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  // Below ten minutes seconds read better next to proxy configs ("60s", not "1m").
  if (ms >= 600_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms !== 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Formats bytes: 536870912 → "512MB". */
export function formatSize(bytes: number): string {
  if (bytes !== 0 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3}GB`;
  if (bytes !== 0 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}MB`;
  if (bytes !== 0 && bytes % 1024 === 0) return `${bytes / 1024}KB`;
  return `${bytes}B`;
}
