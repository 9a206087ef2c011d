/**
 * Starts a real `holdfast serve` (the built CLI in dist/) as a child process on free
 * loopback ports, in its own temp directory, and gives tests its URLs, its log and a
 * way to signal and stop it. Nothing is mocked.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./temp-dir.js";

const ROOT = new URL("../../", import.meta.url).pathname;
export const CLI = join(ROOT, "dist/cli/main.js");
export const FIXTURES = join(ROOT, "test/fixtures/apps");

/** A running holdfast under test. */
export interface HoldfastProcess {
  child: ChildProcess;
  appUrl: string;
  adminUrl: string;
  dir: string;
  logFile: string;
  stdout: () => string;
  stderr: () => string;
  /** Parsed JSON log lines so far. */
  logLines(): Array<Record<string, unknown>>;
  /** Waits until a log line matches, or throws after `ms`. */
  waitForLog(pred: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  status(): Promise<StatusLike>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** The parts of /status tests read. */
export interface StatusLike {
  ready: boolean;
  workers: Array<{ id: number; pid: number; state: string; restarts: number; inflight: number; requests: number }>;
  counters: Record<string, unknown>;
  events: Array<Record<string, unknown>>;
}

/** Options of {@link startHoldfast}. */
export interface StartOptions {
  env?: Record<string, string>;
  args?: string[];
  workers?: number;
  /** Files written into the working directory first (name → text). */
  files?: Record<string, string>;
  /** The CLI to run (an installed copy's dist/cli/main.js); default this checkout's build. */
  cli?: string;
  /** Working directory (a prepared project); default a fresh temp directory. */
  dir?: string;
}

/** Starts `holdfast serve <app>` with extra env (HOLDFAST_* settings) and args. */
export async function startHoldfast(app: string, o: StartOptions = {}): Promise<HoldfastProcess> {
  const dir = o.dir ?? tempDir("hf-serve-");
  for (const [name, text] of Object.entries(o.files ?? {})) writeFileSync(join(dir, name), text);
  const logFile = join(dir, "app.log");
  const workersFlag = o.workers === undefined && o.files?.["holdfast.config.json"] ? [] : ["--workers", String(o.workers ?? 2)];
  const child = spawn(process.execPath, [o.cli ?? CLI, "serve", app, "--port", "0", "--admin-port", "0", ...workersFlag, ...(o.args ?? [])], {
    cwd: dir,
    env: { ...process.env, HOLDFAST_LOG_FILE: logFile, HOLDFAST_LOG_PRETTY: "never", HOLDFAST_DB_URL: `sqlite:${join(dir, "app.db")}`, ...o.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const started = Date.now();
  while (!/admin: +http/.test(out)) {
    if (child.exitCode !== null) throw new Error(`holdfast exited early (${child.exitCode}):\n${out}\n${err}`);
    if (Date.now() - started > 20_000) {
      child.kill("SIGKILL");
      throw new Error(`holdfast did not start within 20 s:\n${out}\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const appUrl = (/app: +(http:\/\/\S+)/.exec(out)?.[1] ?? "").replace(/\/$/, "");
  const adminUrl = (/admin: +(http:\/\/\S+)/.exec(out)?.[1] ?? "").replace(/\/$/, "");
  const logLines = () =>
    existsSync(logFile)
      ? readFileSync(logFile, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => {
            try {
              return JSON.parse(l) as Record<string, unknown>;
            } catch {
              return { unparsed: l };
            }
          })
      : [];
  return {
    child,
    appUrl,
    adminUrl,
    dir,
    logFile,
    stdout: () => out,
    stderr: () => err,
    logLines,
    async waitForLog(pred, ms = 10_000) {
      const until = Date.now() + ms;
      for (;;) {
        const hit = logLines().find(pred);
        if (hit) return hit;
        if (Date.now() > until)
          throw new Error(
            `no matching log line within ${ms} ms; last lines:\n${logLines()
              .slice(-10)
              .map((l) => JSON.stringify(l))
              .join("\n")}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async status() {
      const r = await fetch(`${adminUrl}/status`);
      return (await r.json()) as StatusLike;
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      const t = setTimeout(() => {
        // Say what it was waiting for: a stop that needs SIGKILL is the failure to explain.
        const tail = logLines()
          .slice(-25)
          .map((l) => JSON.stringify(l))
          .join("\n");
        process.stderr.write(`holdfast (pid ${child.pid}) did not stop within 40 s of ${signal}; killing it. Last log lines:\n${tail}\n`);
        child.kill("SIGKILL");
      }, 40_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    exited,
  };
}

export { eventually } from "./wait.js";
