/**
 * Lowers the CPU priority of the calling thread only (Linux). Why: a reader thread scanning a table
 * is CPU-bound, and at equal priority the kernel shares a core evenly between it and the worker's
 * event loop; the loop then waits behind scans before it can accept, shed (503) or answer the cheap
 * requests. Niced readers still get every cycle the loop leaves idle. Opt-in (db.sqlite.readerNice):
 * nice is machine-wide, so on a shared machine niced readers also wait behind other processes.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * Sets the calling thread's nice value to `nice` (0 leaves it alone). Returns the thread id when it
 * was applied, undefined where the platform has no per-thread priority (anything but Linux) or
 * refuses it; the database works the same either way.
 */
export function niceThisThread(nice: number): number | undefined {
  if (nice === 0 || process.platform !== "linux") return undefined;
  try {
    // On Linux a thread id is accepted where a pid is (setpriority(PRIO_PROCESS, tid)) and affects
    // that thread alone; /proc/thread-self names the calling thread as "<pid>/task/<tid>".
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isInteger(tid) || tid <= 0) return undefined;
    setPriority(tid, nice);
    return tid;
  } catch {
    return undefined;
  }
}
