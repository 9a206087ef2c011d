/** `holdfast db`: look at, check and maintain the database (status, check, checkpoint, optimize, backup). */
import { formatSize, loadConfig } from "../../config/index.js";
import {
  backupSqlite,
  type CheckpointMode,
  checkpointSqlite,
  checkSqlite,
  inspectSqlite,
  openDatabase,
  optimizeSqlite,
  parseDatabaseUrl,
  redactUrl,
  type SqliteCheckReport,
} from "../../db/index.js";
import { errors } from "../../errors/index.js";
import type { Command } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { str } from "../parse-args.js";

const SUBCOMMANDS = ["status", "check", "checkpoint", "optimize", "backup"] as const;
type Sub = (typeof SUBCOMMANDS)[number];
const MODES: CheckpointMode[] = ["PASSIVE", "FULL", "RESTART", "TRUNCATE"];

function out(s: string): void {
  process.stdout.write(`${s}\n`);
}

function sqliteLines(r: ReturnType<typeof inspectSqlite>): string[] {
  return [
    `database      ${r.path}`,
    `file          ${formatSize(r.fileBytes)} (${r.pageCount} pages of ${r.pageSize} B, ${r.freelistCount} free)`,
    `WAL           ${formatSize(r.walBytes)}`,
    `journal mode  ${r.journalMode}${r.journalMode === "wal" ? "" : "  (holdfast switches it to wal on open)"}`,
    `auto_vacuum   ${r.autoVacuum}`,
    `tables        ${r.tables}`,
    `user_version  ${r.userVersion}`,
    `SQLite        ${r.sqliteVersion}`,
  ];
}

function printCheck(r: SqliteCheckReport): void {
  for (const l of sqliteLines(r)) out(l);
  out(`${r.check.padEnd(14)}${r.checkResult.length === 1 && r.checkResult[0] === "ok" ? "ok" : `${r.checkResult.length} problem(s)`}`);
  out(`foreign keys  ${r.foreignKeyViolations === 0 ? "ok" : `${r.foreignKeyViolations} violation(s)`}`);
  if (r.problems.length === 0) out("\nNo problems found.");
  for (const p of r.problems) out(`\n${p.severity.toUpperCase()}: ${p.message}`);
}

async function postgres(sub: Sub, url: string, json: boolean): Promise<number> {
  if (sub !== "status" && sub !== "check") {
    throw errors.usage(
      `holdfast db ${sub} is for SQLite files. For PostgreSQL use ${sub === "backup" ? "pg_dump" : sub === "optimize" ? "VACUUM (ANALYZE)" : "the server's own CHECKPOINT"}.`,
    );
  }
  const db = await openDatabase(url, { pool: { max: 1, acquireTimeout: 5000 } });
  try {
    const row = await db.get<{ version: string; max_connections: string; connections: string; in_recovery: boolean }>(
      "SELECT version() AS version, current_setting('max_connections') AS max_connections, (SELECT count(*) FROM pg_stat_activity) AS connections, pg_is_in_recovery() AS in_recovery",
    );
    const max = Number(row?.max_connections);
    const used = Number(row?.connections);
    const problems =
      max > 0 && used / max > 0.8
        ? [
            `${used} of ${max} connections are in use (over 80 %): new connections will soon be refused. Lower db.pool.max × workers × instances, or add PgBouncer.`,
          ]
        : [];
    if (json)
      out(
        JSON.stringify(
          {
            url: redactUrl(url),
            version: row?.version,
            maxConnections: max,
            connections: used,
            inRecovery: row?.in_recovery,
            problems,
            ok: problems.length === 0,
          },
          null,
          2,
        ),
      );
    else {
      out(`database      ${redactUrl(url)}`);
      out(`server        ${row?.version}`);
      out(`connections   ${used} of ${max}`);
      out(`role          ${row?.in_recovery ? "replica (read-only)" : "primary"}`);
      for (const p of problems) out(`\nWARNING: ${p}`);
      if (sub === "check" && problems.length === 0) out("\nNo problems found.");
    }
    return sub === "check" && problems.length > 0 ? EXIT.PROBLEMS : EXIT.OK;
  } finally {
    await db.close();
  }
}

const command: Command = {
  arguments: "<status|check|checkpoint|optimize|backup> [url] [dest] [options]",
  description: "Looks at, checks and maintains the app's database: SQLite files (online, while the app runs) and PostgreSQL (status, check).",
  options: [
    { flag: "--json", description: "machine-readable output (status, check)" },
    { flag: "--full", description: "check: run integrity_check (slower, reads every page) instead of quick_check" },
    { flag: "--mode <mode>", description: "checkpoint: passive | full | restart | truncate (default truncate)" },
    { flag: "--force", description: "backup: overwrite <dest>" },
    { flag: "--config <file>", description: "config file to read db.url from" },
  ],
  epilog: `Subcommands:
  status <url>            sizes, WAL size, journal mode (PostgreSQL: version, connections in use)
  check <url>             quick_check (--full: integrity_check), foreign keys, journal mode, WAL size;
                          exit code 1 when problems are found
  checkpoint <url>        checkpoint the WAL now (--mode truncate by default: shrinks it to 0 bytes
                          when no reader holds it); safe while the app runs
  optimize <url>          PRAGMA optimize (refresh the query planner's statistics)
  backup <url> <dest>     online backup with SQLite's backup API, safe while the app keeps writing;
                          never overwrites <dest> unless --force

<url> is "sqlite:./data/app.db", a path to a .db file, or "postgres://user@host/db"; when left
out, db.url from the config (holdfast.config.*, HOLDFAST_DB_URL) is used.

Exit code: 0 ok, 1 problems found or the command failed, 2 bad usage.`,
  async run({ values, positionals }) {
    const sub = positionals[0] as Sub | undefined;
    if (!sub || !SUBCOMMANDS.includes(sub)) {
      throw errors.usage(`holdfast db needs one of: ${SUBCOMMANDS.join(", ")}${sub ? ` (got "${sub}")` : ""}. See \`holdfast db --help\`.`);
    }
    let url = positionals[1];
    if (!url) url = (await loadConfig({ configFile: str(values.config) })).config.db.url;
    const json = values.json === true;
    const target = parseDatabaseUrl(url);
    if (target.dialect === "postgres") return postgres(sub, target.url, json);
    if (target.path === ":memory:") throw errors.usage("An in-memory database exists only inside the process that opened it; holdfast db needs a file.");
    const path = target.path;

    switch (sub) {
      case "status": {
        const r = inspectSqlite(path);
        if (json) out(JSON.stringify(r, null, 2));
        else for (const l of sqliteLines(r)) out(l);
        return EXIT.OK;
      }
      case "check": {
        const r = checkSqlite(path, { full: values.full === true });
        if (json) out(JSON.stringify(r, null, 2));
        else printCheck(r);
        return r.ok ? EXIT.OK : EXIT.PROBLEMS;
      }
      case "checkpoint": {
        const mode = (str(values.mode) ?? "truncate").toUpperCase() as CheckpointMode;
        if (!MODES.includes(mode)) throw errors.usage(`--mode must be one of ${MODES.map((m) => m.toLowerCase()).join(", ")}, got "${str(values.mode)}".`);
        const r = checkpointSqlite(path, mode);
        if (json) out(JSON.stringify(r, null, 2));
        else {
          out(
            `${mode} checkpoint of ${path}: ${r.checkpointed} of ${r.log} WAL frames copied into the database; WAL ${formatSize(r.walBytesBefore)} → ${formatSize(r.walBytesAfter)}.`,
          );
          if (r.busy) out(`A reader or writer held the WAL, so the checkpoint could not finish (busy). Look for a long-running read transaction, then retry.`);
        }
        return r.busy ? EXIT.PROBLEMS : EXIT.OK;
      }
      case "optimize": {
        const r = optimizeSqlite(path);
        out(json ? JSON.stringify(r) : `PRAGMA optimize on ${path} took ${r.ms} ms.`);
        return EXIT.OK;
      }
      case "backup": {
        const dest = positionals[2];
        if (!dest) throw errors.usage("holdfast db backup needs a destination: holdfast db backup sqlite:./data/app.db ./backups/app-$(date +%F).db");
        const r = await backupSqlite(path, dest, { force: values.force === true });
        out(
          json
            ? JSON.stringify(r)
            : `Backed up ${path} to ${r.dest}: ${formatSize(r.bytes)} (${r.totalPages} pages) in ${r.ms} ms. Check it with \`holdfast db check sqlite:${r.dest}\`.`,
        );
        return EXIT.OK;
      }
    }
  },
};

export default command;
