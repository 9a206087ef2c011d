/** A cache loader for tests: counts its runs and takes a fixed time to answer. */
import { setTimeout as sleep } from "node:timers/promises";

/** A loader that counts its runs in `runs` and answers `value(run number)` after `ms`. */
export function slowLoader<T>(value: (n: number) => T, ms: number) {
  const l = {
    runs: 0,
    fn: async () => {
      l.runs++;
      const n = l.runs;
      await sleep(ms);
      return value(n);
    },
  };
  return l;
}
