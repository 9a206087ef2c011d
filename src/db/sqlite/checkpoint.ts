/**
 * The checkpoint manager (runs in the writer thread). SQLite's wal_autocheckpoint is PASSIVE:
 * it never waits for readers, so under steady reads it can fall behind forever and the WAL
 * grows without bound ("checkpoint starvation"). Every interval this runs a PASSIVE checkpoint,
 * and escalates to TRUNCATE (which briefly waits for readers) when the WAL is over the size
 * limit or PASSIVE has failed to catch up several times in a row.
 */
import type { Connection } from "./connection.js";
import { walBytes } from "./connection.js";
import type { CheckpointMode, CheckpointResult, ThreadConfig } from "./protocol.js";

/** PASSIVE rounds that may leave frames behind before TRUNCATE is forced. */
const STARVED_ROUNDS = 3;
/** Longest TRUNCATE wait for readers, in ms: our readers are short, a stuck one must not stall writes. */
const TRUNCATE_WAIT_MS = 200;

type Log = (level: "warn" | "info", event: string, msg: string, fields: Record<string, unknown>) => void;

/** Keeps the WAL bounded and reports each checkpoint. */
export class CheckpointManager {
  readonly #db: Connection;
  readonly #config: ThreadConfig;
  readonly #busy: () => boolean;
  readonly #report: (r: CheckpointResult) => void;
  readonly #log: Log;
  #starved = 0;
  #timer: NodeJS.Timeout | undefined;
  #optimizeTimer: NodeJS.Timeout | undefined;

  constructor(db: Connection, config: ThreadConfig, inTransaction: () => boolean, report: (r: CheckpointResult) => void, log: Log) {
    this.#db = db;
    this.#config = config;
    this.#busy = inTransaction;
    this.#report = report;
    this.#log = log;
    if (config.checkpointInterval > 0) {
      this.#timer = setInterval(() => this.tick(), config.checkpointInterval);
      this.#timer.unref();
    }
    if (config.optimizeInterval > 0) {
      this.#optimizeTimer = setInterval(() => {
        if (!this.#busy()) this.#db.pragma("optimize");
      }, config.optimizeInterval);
      this.#optimizeTimer.unref();
    }
  }

  /** One scheduled round: PASSIVE, escalating to TRUNCATE when the WAL is too big or starved. */
  tick(): void {
    if (this.#busy()) return;
    try {
      const r = this.run("PASSIVE");
      const limit = this.#config.journalSizeLimit;
      this.#starved = r.log > 0 && r.checkpointed < r.log ? this.#starved + 1 : 0;
      if ((limit > 0 && r.walBytes > limit) || this.#starved >= STARVED_ROUNDS) {
        const t = this.run("TRUNCATE", TRUNCATE_WAIT_MS);
        if (t.busy) {
          this.#log(
            "warn",
            "db.checkpoint.starved",
            `The WAL of ${this.#config.path} is ${t.walBytes} bytes and could not be truncated: a reader kept an old snapshot open past ${TRUNCATE_WAIT_MS} ms. Look for long-running reads or a process holding a read transaction.`,
            { path: this.#config.path, walBytes: t.walBytes, log: t.log, checkpointed: t.checkpointed },
          );
        } else this.#starved = 0;
      }
    } catch (err) {
      this.#log("warn", "db.checkpoint.failed", `Checkpoint of ${this.#config.path} failed: ${(err as Error).message}`, { path: this.#config.path });
    }
  }

  /**
   * Runs one checkpoint now and reports it (unless `report` is false: the ones inline writes ask
   * for come every walAutocheckpoint writes, too often for a log line each). `waitMs` bounds how
   * long RESTART/TRUNCATE wait for readers.
   */
  run(mode: CheckpointMode, waitMs = TRUNCATE_WAIT_MS, report = true): CheckpointResult {
    const waits = mode !== "PASSIVE";
    if (waits) this.#db.pragma(`busy_timeout = ${waitMs}`);
    let row: { busy: number; log: number; checkpointed: number };
    try {
      row = (this.#db.pragma(`wal_checkpoint(${mode})`) as { busy: number; log: number; checkpointed: number }[])[0] ?? { busy: 0, log: 0, checkpointed: 0 };
    } finally {
      if (waits) this.#db.pragma(`busy_timeout = ${this.#config.lockSliceMs}`);
    }
    const result: CheckpointResult = {
      at: new Date().toISOString(),
      mode,
      busy: row.busy,
      log: row.log,
      checkpointed: row.checkpointed,
      walBytes: walBytes(this.#config.path),
    };
    if (report) this.#report(result);
    return result;
  }

  /** Stops the timers (on close). */
  stop(): void {
    clearInterval(this.#timer);
    clearInterval(this.#optimizeTimer);
  }
}
