/** Runs the built `holdfast load` in a child process, for the load CLI tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { CLI } from "./holdfast-process.js";

/** How a `holdfast load` run ended. */
export interface LoadRun {
  code: number | null;
  out: string;
  err: string;
}

/**
 * Runs `holdfast load ...args`; `onErr` sees stderr as it comes; the child goes into `children`
 * (for the caller's cleanup). Bounded: killed after 60 s.
 */
export function runLoadCli(args: string[], children: ChildProcess[], onErr?: (soFar: string) => void): Promise<LoadRun> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, "load", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(c);
    let out = "";
    let err = "";
    c.stdout.on("data", (d) => {
      out += d;
    });
    c.stderr.on("data", (d) => {
      err += d;
      onErr?.(err);
    });
    const t = setTimeout(() => c.kill("SIGKILL"), 60_000);
    c.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}
