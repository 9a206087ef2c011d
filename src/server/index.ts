/** server/ — the supervisor, the worker runtime and the admin endpoint. */
export { startServer, type RunningServer } from "./supervisor/serve.js";
export { defineApp, type AppFactory } from "./worker/app-loader.js";
export type { AppContext } from "./worker/app-context.js";
export { SUPERVISOR_PHASES, WORKER_PHASES } from "./lifecycle.js";
export type { StatusDocument } from "./supervisor/admin-server.js";
export { startTerminalNotices, type TerminalNoticeOptions } from "./supervisor/terminal-notices.js";
