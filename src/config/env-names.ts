/**
 * HOLDFAST_* variables that are not settings, and the nearest setting to a misspelt one, so
 * `HOLDFAST_TIMEOUT_DEADLINE=5s` gets a warning naming HOLDFAST_TIMEOUTS_DEADLINE instead of
 * being ignored without a word.
 */

/**
 * Variables holdfast reads that are not config settings (supervisor → worker hand-over, CLI
 * defaults, HOLDFAST_ADMISSION_TRACE: the admission trace recorder, docs/overload.md).
 */
const NOT_SETTINGS = new Set(["HOLDFAST_CONFIG", "HOLDFAST_WORKER_ID", "HOLDFAST_STALL_FILE", "HOLDFAST_ADMIN_URL", "HOLDFAST_ADMISSION_TRACE"]);
/** Prefixes of variables owned by holdfast's own test and benchmark harnesses. */
const HARNESS_PREFIXES = ["HOLDFAST_TEST_", "HOLDFAST_BENCH_"];

/** True when `name` is a HOLDFAST_* variable holdfast knows and that is not a setting. */
export function isInternalVariable(name: string): boolean {
  return NOT_SETTINGS.has(name) || HARNESS_PREFIXES.some((p) => name.startsWith(p));
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/**
 * The known name closest to `name`, or undefined when none is close enough to be a likely typo.
 * One code path for every "did you mean" about settings: HOLDFAST_* variables (prefix "HOLDFAST_",
 * which does not count towards the allowed difference) and config-file keys.
 */
export function closestName(name: string, known: readonly string[], prefix = ""): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  // A third of the name may differ (HOLDFAST_TIMEOUT_DEADLINE → HOLDFAST_TIMEOUTS_DEADLINE is 1 edit; workres → workers is 2).
  return best !== undefined && bestD <= Math.max(2, Math.floor((name.length - prefix.length) / 3)) ? best : undefined;
}
