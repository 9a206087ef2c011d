/**
 * Starts a SQLite thread. Compiled (dist/*.js) the thread module starts directly; from source
 * under tsx (tests, `node --import tsx`) `new Worker("x.ts")` fails with "Unknown file
 * extension", so the thread is started from a tiny eval'd bootstrap that registers tsx first.
 */
import { Worker } from "node:worker_threads";
import { resolveOptional } from "../../optional/index.js";
import type { ThreadConfig } from "./protocol.js";

const fromSource = import.meta.url.endsWith(".ts");
const threadUrl = new URL(`./sqlite-thread.${fromSource ? "ts" : "js"}`, import.meta.url);

/** Starts one SQLite thread with its config. */
export function spawnSqliteThread(config: ThreadConfig): Worker {
  if (!fromSource) return new Worker(threadUrl, { workerData: config });
  const tsxApi = resolveOptional("tsx/esm/api", "holdfast is running from its TypeScript source");
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(threadUrl.href)}); });`;
  return new Worker(code, { eval: true, workerData: config });
}
