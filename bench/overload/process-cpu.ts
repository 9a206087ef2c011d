/**
 * CPU time used by a process and every process below it (workers, their threads), from /proc.
 * Why: on a shared machine requests per second measure the neighbours as much as the server;
 * CPU milliseconds per answered request do not, so the bench reports both.
 */
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

const TICKS_PER_S = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

function ownTicks(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU ms used so far by `pid` and its live descendants (0 where /proc is unavailable). */
export function processTreeCpuMs(pid: number): number {
  let ticks = 0;
  const stack = [pid];
  for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
    ticks += ownTicks(p);
    stack.push(...childrenOf(p));
  }
  return (ticks * 1000) / TICKS_PER_S;
}
