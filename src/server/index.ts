/** server/ — the supervisor, the worker runtime and the admin endpoint. */
export { startServer, type RunningServer } from "./serve.js";
export { defineApp, type AppFactory } from "./app-loader.js";
export type { AppContext } from "./app-context.js";
export { SUPERVISOR_PHASES, WORKER_PHASES } from "./lifecycle.js";
export type { StatusDocument } from "./admin-server.js";
export { startTerminalNotices, type TerminalNoticeOptions } from "./terminal-notices.js";
