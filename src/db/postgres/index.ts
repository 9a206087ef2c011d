/** db/postgres — the PostgreSQL driver (node-postgres under holdfast's pool core). */
export { openPostgres, type PostgresOptions, type PostgresPoolOptions } from "./postgres-database.js";
export {
  readServerConnectionLimits,
  connectionBudgetWarning,
  connectionBudgetFix,
  CONNECTION_HEADROOM,
  type ServerConnectionLimits,
} from "./connection-budget.js";
