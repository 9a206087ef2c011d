/** Small pieces every benchmark needs: a free loopback port, a median and a ratio. */
import { createServer } from "node:net";

/** A port that was free on 127.0.0.1 a moment ago (bind 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** a / b to three decimals, as every bench prints its ratios: two decimals let 0.9988 pass a ">= 1" target (2026-12-03). */
export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 1000) / 1000;
}
