/**
 * PostgreSQL connection limit: the server refuses new connections ("sorry, too many clients
 * already", "remaining connection slots are reserved"), usually because pool.max × workers ×
 * instances is above max_connections. Also judged live from pg_stat_activity.
 */
import type { Correlation, Dataset, Finding, Rule } from "../types.js";
import { appEventFinding } from "./app-event-rule.js";

export const pgConnectionLimit: Rule = {
  id: "pg-connection-limit",
  summary: "PostgreSQL max_connections reached: new connections refused (too many clients).",
  run(data: Dataset, corr: Correlation): Finding[] {
    const fix = {
      summary:
        "Keep pool.max × workers × instances below max_connections minus superuser_reserved_connections, or put PgBouncer (transaction pooling) in front of PostgreSQL. Find idle-in-transaction sessions and set idle_in_transaction_session_timeout.",
      holdfast: `db: { pool: { max: 10 } }   // 10 × workers × instances < max_connections - reserved`,
    };
    const fromLogs = appEventFinding(data, corr, {
      id: "pg-connection-limit",
      title: "PostgreSQL refuses connections: max_connections reached",
      severity: "critical",
      events: (e) => e.event === "db.too-many-clients" || (e.event === "db.unavailable" && /too many clients|connection slots/.test(JSON.stringify(e.fields))),
      eventLabel: "'too many clients'",
      kinds: ["app-5xx", "read-timeout", "unknown"],
      fix,
    });
    if (fromLogs.length) return fromLogs;
    const p = data.probes.postgres;
    if (!p || p.maxConnections === undefined || p.connections === undefined) return [];
    const usable = p.maxConnections - (p.reserved ?? 3);
    const ratio = p.connections / usable;
    if (ratio < 0.8) return [];
    return [
      {
        id: "pg-connection-limit",
        title: "PostgreSQL close to max_connections",
        severity: ratio >= 0.95 ? "error" : "warning",
        confidence: 0.8,
        explains: 0,
        evidence: {
          summary: `${p.connections} of ${usable} usable connections in use (max_connections ${p.maxConnections}); ${p.idleInTransaction ?? 0} idle in transaction.`,
          counts: { connections: p.connections, maxConnections: p.maxConnections, idleInTransaction: p.idleInTransaction ?? 0 },
          samples: [],
        },
        fix,
      },
    ];
  },
};
