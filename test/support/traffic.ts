/** Steady HTTP traffic for tests that watch a running holdfast react to it. */

/**
 * Sends requests to `paths` in turn, 4 at a time (`concurrency`), while `keepGoing()` holds (at
 * most 10 s, or `maxMs`); resolves with how many were sent. `requestTimeoutMs` bounds each
 * request, for tests that kill workers (a connection handed to a dying worker may never answer).
 */
export async function traffic(
  base: string,
  paths: readonly string[],
  keepGoing: () => boolean,
  o: { maxMs?: number; concurrency?: number; requestTimeoutMs?: number } = {},
): Promise<number> {
  const until = Date.now() + (o.maxMs ?? 10_000);
  let sent = 0;
  await Promise.all(
    Array.from({ length: o.concurrency ?? 4 }, async () => {
      while (keepGoing() && Date.now() < until) {
        const signal = o.requestTimeoutMs ? AbortSignal.timeout(o.requestTimeoutMs) : undefined;
        const r = await fetch(`${base}${paths[sent++ % paths.length]}`, { signal }).catch(() => undefined);
        await r?.arrayBuffer().catch(() => undefined);
        await new Promise((res) => setTimeout(res, 5));
      }
    }),
  );
  return sent;
}

/** A `keepGoing` for {@link traffic} that turns false once `p` settles. */
export function untilSettled(p: Promise<unknown>): () => boolean {
  let going = true;
  const stop = () => {
    going = false;
  };
  p.then(stop, stop);
  return () => going;
}
