/**
 * Open-loop pacing for the fault tests: they send on a schedule (N requests a second from a start
 * time) whatever the server does, so a slow answer cannot slow the load down. Waiting for the next
 * request's due time is waiting for a condition of the schedule, not a fixed pause.
 */

/** When request number `index` (0-based) of a schedule of `perSecond` from `started` (Date.now()) is due. */
export function dueAt(started: number, index: number, perSecond: number): number {
  return started + (index * 1000) / perSecond;
}

/** Resolves at `at` (Date.now() clock), at once if that has passed. */
export function waitUntil(at: number): Promise<void> {
  const wait = at - Date.now();
  return wait > 0 ? new Promise((r) => setTimeout(r, wait)) : Promise.resolve();
}
